import { STATUS_CODES } from 'node:http'
import type { Duplex } from 'node:stream'
import type { ApiError } from '../errors.js'
import { errorBody } from '../envelope.js'

/** A refused socket that does not drain its response within this is destroyed anyway. */
const REFUSAL_DRAIN_MS = 2_000

/**
 * Answers a refused upgrade with a plain HTTP response (nullptr error envelope, `Retry-After`
 * when the error has one) and closes the socket. No WebSocket ever exists for it. The answer to a
 * `HEAD` request (node emits `upgrade` for any method) is the head alone: a response to HEAD has
 * no content (RFC 9110 section 9.3.2), and a client would read the envelope as the next response.
 */
export function writeRefusal(socket: Duplex, err: ApiError, method?: string): void {
  if (socket.destroyed) return
  const body = JSON.stringify(errorBody('nullptr', err.code, err.status, err.message))
  const head = [
    `HTTP/1.1 ${err.status} ${STATUS_CODES[err.status] ?? 'Error'}`,
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Cache-Control: no-store',
    'Connection: close',
  ]
  if (err.retryAfter !== undefined) head.push(`Retry-After: ${err.retryAfter}`)
  const timer = setTimeout(() => socket.destroy(), REFUSAL_DRAIN_MS)
  timer.unref()
  socket.once('close', () => clearTimeout(timer))
  socket.once('finish', () => socket.destroy())
  socket.end(`${head.join('\r\n')}\r\n\r\n${method === 'HEAD' ? '' : body}`)
}
