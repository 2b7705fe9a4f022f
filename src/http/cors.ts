import type { IncomingMessage } from 'node:http'
import { ApiError } from '../errors.js'
import type { Method } from './route.js'

/** The request headers a cross-origin page may send: the credential pair and the JSON body's type. */
export const CORS_ALLOWED_HEADERS = 'Token, Username, Content-Type'
/** Seconds a browser may reuse a preflight answer. */
export const CORS_MAX_AGE_SECONDS = 600

/** What the CORS policy needs to know about the request's path, from the router. */
export interface PathMethods {
  /** Every method served on the path (empty: no such path). */
  all: readonly Method[]
  /** The methods browsers on an allowed origin may call there (empty: same-origin only). */
  crossOrigin: readonly Method[]
}

/** A CORS preflight, as the Fetch standard defines one: `OPTIONS` with `Origin` and `Access-Control-Request-Method`. */
export const isPreflight = (req: IncomingMessage): boolean =>
  req.method === 'OPTIONS' && req.headers.origin !== undefined && req.headers['access-control-request-method'] !== undefined

/**
 * The CORS policy of `ALLOWED_ORIGINS` (exact matches; unset or empty: no CORS at all). Only paths
 * whose routes are declared `crossOrigin` ever answer with CORS headers.
 */
export function createCorsPolicy(allowedOrigins: readonly string[] | undefined) {
  const listed = new Set(allowedOrigins ?? [])
  const isListed = (origin: string | undefined): origin is string => origin !== undefined && listed.has(origin)

  return {
    /**
     * Headers for every answer on a path (errors included). `Vary: Origin` goes on every answer of
     * a cross-origin path, whatever the Origin, because the answer depends on it; the
     * `Access-Control-*` headers only to a listed Origin.
     */
    answerHeaders(origin: string | undefined, path: PathMethods): Record<string, string> {
      if (listed.size === 0 || path.crossOrigin.length === 0) return {}
      if (!isListed(origin)) return { vary: 'Origin' }
      return { 'access-control-allow-origin': origin, vary: 'Origin', 'access-control-expose-headers': 'Retry-After' }
    },

    /**
     * The extra headers of a granted preflight (answered 204), or the refusal: 404 for an unknown
     * path; 403 ORIGIN_NOT_ALLOWED for an Origin not listed or a same-origin-only path; 405 (with
     * `Allow`) for a method the path does not serve cross-origin.
     */
    preflight(req: IncomingMessage, path: PathMethods): Record<string, string> {
      if (path.all.length === 0) throw new ApiError('NOT_FOUND')
      if (path.crossOrigin.length === 0) throw new ApiError('ORIGIN_NOT_ALLOWED', 'This path is never served cross-origin.')
      if (!isListed(req.headers.origin)) throw new ApiError('ORIGIN_NOT_ALLOWED')
      if (!path.crossOrigin.includes(req.headers['access-control-request-method'] as Method)) {
        throw new ApiError('METHOD_NOT_ALLOWED', 'The preflight asks for a method this path does not serve.', undefined, path.all.join(', '))
      }
      return {
        'access-control-allow-methods': path.crossOrigin.join(', '),
        'access-control-allow-headers': CORS_ALLOWED_HEADERS,
        'access-control-max-age': String(CORS_MAX_AGE_SECONDS),
      }
    },
  }
}

/** The CORS policy a handler is built with. */
export type CorsPolicy = ReturnType<typeof createCorsPolicy>
