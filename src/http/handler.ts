import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Logger } from 'pino'
import { ApiError } from '../errors.js'
import { MAX_BODY_BYTES } from './body.js'
import { parseRequestTarget } from '../request/target.js'
import { clientInfo } from './client-info.js'
import { refuseTokenInQuery } from './credentials.js'
import { refuseBadHost, refuseControlCharacterHeaders } from './header-check.js'
import { dialectOf, resultBody, sendError, sendJson, type Dialect } from './respond.js'
import type { Router } from './router.js'

export interface HttpHandlerDeps {
  router: Router
  log: Logger
  trustProxy: boolean
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

/** The node:http request listener: route, run, and answer in the route's dialect. */
export function createHttpHandler({ router, log, trustProxy }: HttpHandlerDeps) {
  return async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let dialect: Dialect = 'nullptr'
    try {
      const target = parseRequestTarget(req.url ?? '')
      if (!target) throw new ApiError('BAD_REQUEST', 'The request target must be a path starting with one /.')
      dialect = dialectOf(target.path)
      refuseControlCharacterHeaders(req)
      refuseBadHost(req)
      const query = new URLSearchParams(target.query)
      refuseTokenInQuery(query)
      const { route, params } = router.match(req.method ?? 'GET', target.path)
      dialect = route.dialect
      const reply = await route.handle({ req, params, query, client: clientInfo(req, trustProxy) })
      closeUnlessDrainable(req, res)
      if ('text' in reply) {
        res.writeHead(reply.status ?? 200, { 'content-type': reply.contentType, 'cache-control': 'no-store' })
        res.end(reply.text)
      } else {
        sendJson(res, reply.status ?? 200, resultBody(dialect, reply.result), reply.headers)
      }
    } catch (err) {
      closeUnlessDrainable(req, res)
      sendError(res, dialect, err, log)
    } finally {
      // Drain a small unread body so keep-alive stays usable; a large one closes with the response.
      if (!req.complete && canDrain(req)) req.resume()
    }
  }
}
