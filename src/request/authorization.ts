/** What an `Authorization` header says, as far as chatgate reads it. */
export type AuthorizationHeader =
  /** No header, or one with another scheme (a proxy's Basic, say): not chatgate's to judge. */
  | { scheme: 'none' }
  /** `Bearer <token>`: the token when it is well formed, null when it is not. */
  | { scheme: 'bearer'; token: string | null }

// RFC 9110 section 11: `auth-scheme [ 1*SP token68 ]`; the scheme is case-insensitive.
const CREDENTIALS = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+)(?: +(.*))?$/
// Printable ASCII without spaces: the service and metrics tokens are chosen by the operator.
const TOKEN = /^[\x21-\x7e]{1,256}$/

/** Reads `Authorization`, matching the `Bearer` scheme case-insensitively. */
export function readAuthorization(header: string | undefined): AuthorizationHeader {
  if (header === undefined) return { scheme: 'none' }
  const m = CREDENTIALS.exec(header.trim())
  if (!m) return { scheme: 'bearer', token: null }
  if (m[1]!.toLowerCase() !== 'bearer') return { scheme: 'none' }
  const token = (m[2] ?? '').trim()
  return { scheme: 'bearer', token: TOKEN.test(token) ? token : null }
}
