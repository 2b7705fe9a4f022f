import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Logger } from 'pino'
import { ApiError } from '../errors.js'
import { clientInfo } from './client-info.js'
import { dialectOf, resultBody, sendError, sendJson, type Dialect } from './respond.js'
import type { Router } from './router.js'

export interface HttpHandlerDeps {
  router: Router
  log: Logger
  trustProxy: boolean
}

/** The node:http request listener: route, run, and answer in the route's dialect. */
export function createHttpHandler({ router, log, trustProxy }: HttpHandlerDeps) {
  return async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost')
    let dialect: Dialect = dialectOf(url.pathname)
    try {
      // Secrets never travel in URLs: a token in the query string is refused, not read.
      for (const key of url.searchParams.keys()) {
        if (key.toLowerCase() === 'token') throw new ApiError('BAD_REQUEST', 'Tokens are not accepted in the URL.')
      }
      const { route, params } = router.match(req.method ?? 'GET', url.pathname)
      dialect = route.dialect
      const reply = await route.handle({ req, params, query: url.searchParams, client: clientInfo(req, trustProxy) })
      if ('text' in reply) {
        res.writeHead(reply.status ?? 200, { 'content-type': reply.contentType, 'cache-control': 'no-store' })
        res.end(reply.text)
      } else {
        sendJson(res, reply.status ?? 200, resultBody(dialect, reply.result), reply.headers)
      }
    } catch (err) {
      sendError(res, dialect, err, log)
    } finally {
      // Drain an unread body so keep-alive stays usable (bounded by the server's timeouts).
      if (!req.complete) req.resume()
    }
  }
}
