import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Logger } from 'pino'
import { dialectOf, resultBody, type Dialect } from '../envelope.js'
import { ApiError } from '../errors.js'
import { clientInfo } from '../request/client-info.js'
import { refuseTokenInQuery } from '../request/credentials.js'
import { refuseBadHost, refuseControlCharacterHeaders } from '../request/header-check.js'
import { parseRequestTarget } from '../request/target.js'
import type { Authenticate } from './authenticate.js'
import { MAX_BODY_BYTES } from './body.js'
import { isPreflight, type CorsPolicy } from './cors.js'
import { readBody, readQuery, parseWith } from './input.js'
import { sendError, sendJson } from './respond.js'
import type { Route, RouteContext } from './route.js'
import type { Router } from './router.js'

export interface HttpHandlerDeps {
  router: Router
  authenticate: Authenticate
  /** CORS for the routes declared `crossOrigin` (src/http/cors.ts). */
  cors: CorsPolicy
  log: Logger
  trustProxy: boolean
  /** Told about every answer: the route's id (`none` when no route matched), the status and the seconds it took. */
  onResponse?: (route: string, status: number, seconds: number) => void
  /** True during SIGTERM's drain: requests that arrive then get 503 SHUTTING_DOWN (go to another node). */
  isDraining?: () => boolean
}

/**
 * True when the unread rest of the body is small enough to drain for keep-alive; a larger or
 * unknown-length rest (a 413, a body sent to a route that reads none) closes the connection instead.
 */
function canDrain(req: IncomingMessage): boolean {
  if (req.complete) return true
  const declared = Number(req.headers['content-length'] ?? NaN)
  return Number.isFinite(declared) && declared <= MAX_BODY_BYTES
}

/** Marks the response `Connection: close` when the unread body is too large to drain. */
function closeUnlessDrainable(req: IncomingMessage, res: ServerResponse): void {
  if (!canDrain(req) && !res.headersSent) res.setHeader('connection', 'close')
}

/**
 * The node:http request listener. Every request goes the same way, so no route can skip a step:
 * the target (origin or absolute form), the path's CORS headers, header checks, no token in the
 * URL, a CORS preflight answered here, the route (404/405), the route's precheck, its `auth`, its
 * params, query and body against their schemas, the handler, and the answer in the route's dialect.
 */
export function createHttpHandler({ router, authenticate, cors, log, trustProxy, onResponse, isDraining }: HttpHandlerDeps) {
  async function run(route: Route, req: IncomingMessage, params: Record<string, string>, query: URLSearchParams) {
    const { spec } = route
    spec.precheck?.()
    const caller = await authenticate(spec.auth, req)
    const ctx: RouteContext<typeof spec> = {
      req,
      client: clientInfo(req, trustProxy),
      caller,
      params: spec.params ? (parseWith(spec.params, params, 'path parameters') as Record<string, string>) : params,
      query: spec.query ? readQuery(spec.query, query) : undefined,
      body: spec.body ? await readBody(spec.body, req) : undefined,
    }
    return route.handle(ctx)
  }

  return async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let dialect: Dialect = 'nullptr'
    const started = performance.now()
    let routeId = 'none'
    try {
      const target = parseRequestTarget(req.url ?? '')
      if (!target) throw new ApiError('BAD_REQUEST', 'The request target must be a path starting with one /.')
      dialect = dialectOf(target.path)
      const methods = { all: router.methodsOf(target.path), crossOrigin: router.crossOriginMethodsOf(target.path) }
      // Set before anything can fail, so that every answer on a cross-origin path carries them.
      for (const [name, value] of Object.entries(cors.answerHeaders(req.headers.origin, methods))) res.setHeader(name, value)
      refuseControlCharacterHeaders(req)
      refuseBadHost(req)
      const query = new URLSearchParams(target.query)
      refuseTokenInQuery(query)
      if (isPreflight(req)) {
        routeId = 'preflight'
        closeUnlessDrainable(req, res)
        res.writeHead(204, cors.preflight(req, methods))
        res.end()
        return
      }
      const { route, params } = router.match(req.method ?? 'GET', target.path)
      dialect = route.spec.dialect
      routeId = route.spec.id
      // Checked once, on arrival: a request that arrived before the drain began is served to the end.
      if (isDraining?.()) throw new ApiError('SHUTTING_DOWN')
      const reply = await run(route, req, params, query)
      closeUnlessDrainable(req, res)
      const { response } = route.spec
      if ('contentType' in response) {
        const text = 'text' in reply ? reply.text : ''
        const etag = 'etag' in reply ? reply.etag : undefined
        const headers = { 'content-type': response.contentType, 'cache-control': etag ? 'no-cache' : 'no-store', ...(etag ? { etag } : {}), ...reply.headers }
        if (etag !== undefined && req.headers['if-none-match'] === etag) {
          res.writeHead(304, headers)
          res.end()
        } else {
          res.writeHead(response.status, headers)
          res.end(text)
        }
      } else {
        const result = 'result' in reply ? reply.result : null
        const other = 'status' in reply ? (reply.status as number | undefined) : undefined
        const status = other !== undefined && other === response.alsoStatus ? other : response.status
        sendJson(res, status, response.bare ? result : resultBody(dialect, result), reply.headers)
      }
    } catch (err) {
      closeUnlessDrainable(req, res)
      sendError(res, dialect, err, log)
    } finally {
      onResponse?.(routeId, res.statusCode, (performance.now() - started) / 1000)
      // Drain a small unread body so keep-alive stays usable; a large one closes with the response.
      if (!req.complete && canDrain(req)) req.resume()
    }
  }
}
