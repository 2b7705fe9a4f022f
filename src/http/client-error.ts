import type { Socket } from 'node:net'
import { ErrorStatus } from '../errors.js'
import { errorBody } from '../envelope.js'

const REASON: Record<number, string> = { 400: 'Bad Request' }

/** The bytes of a complete `400 BAD_REQUEST` response in the nullptr envelope, closing the connection. */
function badRequestResponse(description: string): string {
  const status = ErrorStatus.BAD_REQUEST
  const body = JSON.stringify(errorBody('nullptr', 'BAD_REQUEST', status, description))
  return (
    `HTTP/1.1 ${status} ${REASON[status]}\r\n` +
    'content-type: application/json; charset=utf-8\r\n' +
    `content-length: ${Buffer.byteLength(body)}\r\n` +
    'cache-control: no-store\r\n' +
    'connection: close\r\n\r\n' +
    body
  )
}

/**
 * The server's `clientError` listener: a request node's parser refused (oversized headers, control
 * characters, malformed HTTP) gets the contract's envelope, then the socket is closed; a client
 * that was too slow (headersTimeout, requestTimeout) is cut off without an answer.
 */
export function answerClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  const pending = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage
  const canAnswer = socket.writable && !pending?.headersSent && err.code !== 'ECONNRESET' && err.code !== 'ERR_HTTP_REQUEST_TIMEOUT'
  if (!canAnswer) {
    socket.destroy()
    return
  }
  const description = err.code === 'HPE_HEADER_OVERFLOW' ? 'The request headers are too large.' : 'The request is not valid HTTP.'
  socket.end(badRequestResponse(description))
  socket.once('finish', () => socket.destroy())
}
