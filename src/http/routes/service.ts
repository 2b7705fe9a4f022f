import { z } from 'zod'
import { ApiError } from '../../errors.js'
import { route, type Route } from '../route.js'
import type { RouteDeps } from './deps.js'

/** `/healthz`, `/metrics`, a plain `GET /ws`, and `/openapi.json` (its document is built by the caller). */
export function serviceRoutes({ metrics, isDraining }: RouteDeps, openapi: () => unknown): Route[] {
  return [
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
