import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'
import type { Logger } from 'pino'
import { ApiError } from './errors.js'
import { errorBody } from './envelope.js'
import { writeRefusal } from './gateway/refuse.js'

/** Where an error escaped to: a request handler or the upgrade path. */
export type BackstopSite = 'request' | 'upgrade'

/**
 * The last line of defence: an error that escaped a request or upgrade handler (a bug, never an
 * expected failure) is logged without the request's headers, counted, answered with one 500
 * INTERNAL_ERROR when nothing was sent yet, and the process keeps serving.
 */
export interface Backstop {
  request(err: unknown, res: ServerResponse): void
  upgrade(err: unknown, socket: Duplex, req: IncomingMessage): void
}

export function createBackstop(log: Logger, count: (site: BackstopSite) => void): Backstop {
  /** Counted and logged after the answer: the error itself may be what makes logging throw. */
  const report = (site: BackstopSite, err: unknown) => {
    count(site)
    try {
      log.error({ event: 'backstop', site, err }, 'an error escaped a handler; answered 500')
    } catch {
      log.error({ event: 'backstop', site }, 'an error escaped a handler; answered 500 (the error could not be logged)')
    }
  }
  return {
    request(err, res) {
      try {
        if (res.headersSent || res.destroyed) res.destroy()
        else {
          const body = JSON.stringify(errorBody('nullptr', 'INTERNAL_ERROR', 500, 'Internal error.'))
          res.writeHead(500, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), connection: 'close' })
          res.end(body)
        }
      } catch {
        res.destroy()
      }
      report('request', err)
    },
    upgrade(err, socket, req) {
      try {
        writeRefusal(socket, new ApiError('INTERNAL_ERROR'), req.method)
      } catch {
        socket.destroy()
      }
      report('upgrade', err)
    },
  }
}
