import type { ServerResponse } from 'node:http'
import type { Logger } from 'pino'
import { errorBody, type Dialect } from '../envelope.js'
import { ApiError, toApiError } from '../errors.js'

/** Writes a JSON body with no caching, unless the response was already sent. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return
  const text = JSON.stringify(body)
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    ...headers,
  })
  res.end(text)
}

/**
 * Maps any thrown value to the dialect's error response: an expected error by its code (toApiError),
 * everything else as 500 INTERNAL_ERROR (logged, never shown to the client).
 */
export function sendError(res: ServerResponse, dialect: Dialect, err: unknown, log: Logger): void {
  const expected = toApiError(err)
  if (!expected) log.error({ err }, 'unhandled error in request')
  const e = expected ?? new ApiError('INTERNAL_ERROR')
  const headers: Record<string, string> = e.retryAfter !== undefined ? { 'retry-after': String(e.retryAfter) } : {}
  if (e.code === 'METHOD_NOT_ALLOWED' && e.allow) headers.allow = e.allow
  sendJson(res, e.status, errorBody(dialect, e.code, e.status, e.message), headers)
}
