import { z } from 'zod'
import { ApiError } from '../../errors.js'
import type { WebAsset, WebEntry } from '../../web/assets.js'
import { route, type Route } from '../route.js'
import type { RouteDeps } from './deps.js'

/** Seconds a balancer is told to wait before it asks `/readyz` again after a 503. */
const READY_RETRY_AFTER_S = 1

/** What `/readyz` answers, 200 or 503 alike. */
const Readiness = z.object({ ok: z.boolean(), store: z.enum(['up', 'down']), bus: z.enum(['up', 'down', 'off']) })

/** `/client.js`: the browser entry of the client SDK (src/client/), bundled by esbuild at start. */
export const CLIENT_ENTRIES: Record<string, WebEntry> = {
  'client.js': { source: 'client/browser.ts', contentType: 'text/javascript; charset=utf-8' },
}

/**
 * Public code for pages on any origin (`import … from 'https://chat.example.com/client.js'`):
 * readable cross-origin, never sniffed; revalidated by its ETag (no-cache), so a node serves a new
 * SDK as soon as it runs one.
 */
const CLIENT_HEADERS: Record<string, string> = {
  'access-control-allow-origin': '*',
  'cross-origin-resource-policy': 'cross-origin',
  'x-content-type-options': 'nosniff',
}

/**
 * `/healthz`, `/readyz`, `/metrics`, a plain `GET /ws`, `/client.js` (from `assets`, the build started with
 * the app) and `/openapi.json` (its document is built by the caller).
 */
export function serviceRoutes({ metrics, isDraining, readiness }: RouteDeps, openapi: () => unknown, assets: Promise<Map<string, WebAsset>>): Route[] {
  return [
    route(
      {
        id: 'clientSdk',
        method: 'GET',
        path: '/client.js',
        dialect: 'nullptr',
        auth: 'none',
        summary: 'The client SDK as one ES module (`import { ChatgateClient } from "/client.js"`), for pages on any origin.',
        response: { status: 200, contentType: CLIENT_ENTRIES['client.js']!.contentType },
      },
      async () => {
        const asset = (await assets).get('client.js')!
        return { text: asset.body, etag: asset.etag, headers: CLIENT_HEADERS }
      },
    ),
    route(
      {
        id: 'health',
        method: 'GET',
        path: '/healthz',
        dialect: 'nullptr',
        auth: 'none',
        summary: 'The process serves: 200 {"ok":true} (bare, for load balancers); 503 SHUTTING_DOWN while draining.',
        response: { status: 200, body: z.object({ ok: z.literal(true) }), bare: true },
      },
      async () => {
        if (isDraining()) throw new ApiError('SHUTTING_DOWN')
        return { result: { ok: true as const } }
      },
    ),
    route(
      {
        id: 'ready',
        method: 'GET',
        path: '/readyz',
        dialect: 'nullptr',
        auth: 'none',
        summary:
          'Whether this node can serve logins and sockets: 200 {"ok":true,"store":"up","bus":"up"|"off"} (bare, for load balancers); ' +
          '503 with ok false while the store or the bus (Redis) is unreachable as this node last saw it, or while draining.',
        response: { status: 200, body: Readiness, bare: true, alsoStatus: 503 },
      },
      async () => {
        const { store, bus } = readiness()
        const ok = !isDraining() && store === 'up' && bus !== 'down'
        return ok
          ? { result: { ok, store, bus } }
          : { result: { ok, store, bus }, status: 503 as const, headers: { 'retry-after': String(READY_RETRY_AFTER_S) } }
      },
    ),
    route(
      {
        id: 'metrics',
        method: 'GET',
        path: '/metrics',
        dialect: 'nullptr',
        auth: 'metrics',
        summary: 'Prometheus text. Open unless METRICS_TOKEN is set, then `Authorization: Bearer <METRICS_TOKEN>`.',
        response: { status: 200, contentType: metrics.contentType },
      },
      async () => ({ text: await metrics.render() }),
    ),
    route(
      {
        id: 'websocketUpgrade',
        method: 'GET',
        path: '/ws',
        dialect: 'nullptr',
        auth: 'none',
        summary: 'The chat WebSocket: served only as an upgrade (docs/API.md); a plain GET is 400.',
        response: { status: 200, body: z.never() },
      },
      async () => {
        // Upgrades never reach the request listener: a plain GET here is a client that forgot to upgrade.
        throw new ApiError('BAD_REQUEST', 'GET /ws is a WebSocket upgrade: send Connection: Upgrade and Upgrade: websocket.')
      },
    ),
    route(
      {
        id: 'openapi',
        method: 'GET',
        path: '/openapi.json',
        dialect: 'nullptr',
        auth: 'none',
        summary: 'This document: OpenAPI 3.1, generated from the routes and the schemas that validate them.',
        response: { status: 200, body: z.looseObject({ openapi: z.string() }), bare: true },
      },
      async () => ({ result: openapi() as { openapi: string } }),
    ),
  ]
}
