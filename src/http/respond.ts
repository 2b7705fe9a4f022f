import type { ServerResponse } from 'node:http'
import type { Logger } from 'pino'
import { ApiError, toApiError, type ErrorCode } from '../errors.js'

/** The two wire dialects: nullptr (`/session`, `/user`, `/admin`) and Dialogram (`/api/*`). */
export type Dialect = 'nullptr' | 'dialogram'

/** The dialect a path belongs to, for responses (404s included) that no route chose. */
export const dialectOf = (path: string): Dialect => (path === '/api' || path.startsWith('/api/') ? 'dialogram' : 'nullptr')

/** The error envelope of a dialect: the one place an error becomes a body. */
export function errorBody(dialect: Dialect, code: ErrorCode, status: number, description: string): unknown {
  if (dialect === 'dialogram') return { errors: [{ status: String(status), code, title: description }] }
  return { error: true, error_info: { error_code: code, description }, result: null }
}

/** The success envelope of a dialect (Dialogram results are already `{data, includes}`). */
export function resultBody(dialect: Dialect, result: unknown): unknown {
  return dialect === 'dialogram' ? result : { error: false, error_info: null, result }
}

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
