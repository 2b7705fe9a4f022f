import type { ErrorCode } from './errors.js'

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
