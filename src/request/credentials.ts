import type { IncomingMessage } from 'node:http'
import { ApiError } from '../errors.js'
import { rawHeaderValues } from './raw-headers.js'

/** The Token + Username pair a request carries, or null when it carries none. */
export interface Credentials {
  token: string
  username: string
}

// Printable ASCII only: a control character or non-ASCII byte in a credential is refused.
const PRINTABLE = /^[\x21-\x7e]{1,256}$/

/**
 * Reads the `Token` and `Username` headers. Absent → null; given twice, half given, too long,
 * or with control characters → BAD_REQUEST.
 */
export function readHeaderCredentials(req: IncomingMessage): Credentials | null {
  const tokens = rawHeaderValues(req, 'token')
  const usernames = rawHeaderValues(req, 'username')
  if (tokens.length === 0 && usernames.length === 0) return null
  if (tokens.length === 0 || usernames.length === 0) throw new ApiError('UNAUTHORIZED', 'Both Token and Username headers are required.')
  if (tokens.length > 1 || usernames.length > 1) throw new ApiError('BAD_REQUEST', 'Token and Username may be given once.')
  const [token, username] = [tokens[0]!, usernames[0]!]
  if (!PRINTABLE.test(token) || !PRINTABLE.test(username)) throw new ApiError('BAD_REQUEST', 'Malformed Token or Username header.')
  return { token, username }
}

/** Secrets never travel in URLs: a `token` query parameter (any case) is refused, never read. */
export function refuseTokenInQuery(query: URLSearchParams): void {
  for (const key of query.keys()) {
    if (key.toLowerCase() === 'token') throw new ApiError('BAD_REQUEST', 'Tokens are not accepted in the URL.')
  }
}
