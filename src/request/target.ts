/** The request target of an HTTP request or upgrade, split without any normalisation. */
export interface RequestTarget {
  /** The path exactly as sent (percent-encoding kept): routing compares it literally. */
  path: string
  /** The query string without its `?` ('' when there is none). */
  query: string
}

// RFC 3986 path characters (pchar and '/'): unreserved, sub-delims, ':' '@', and %HH escapes.
const PATH = /^\/(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-Fa-f]{2})*$/
// A query also allows '?' (RFC 3986 section 3.4).
const QUERY = /^(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?]|%[0-9A-Fa-f]{2})*$/
// Absolute-form (RFC 9112 section 3.2.2): scheme and authority, then the path and query to serve.
const ABSOLUTE = /^https?:\/\/[A-Za-z0-9\-._~!$&'()*+,;=:@[\]%]+(?=[/?]|$)/i

/**
 * Splits a request target in origin form (`/path?query`, exactly one leading `/`) or absolute form
 * (`http://host/path?query`, served as its path). Null for anything else: `*`, `//x`, `/\x`,
 * characters outside RFC 3986, a broken `%` escape. Nothing is decoded, merged or resolved, so
 * `/%6detrics` and `/admin/../metrics` stay what they are and reach no route.
 */
export function parseRequestTarget(raw: string): RequestTarget | null {
  let rest = raw
  const absolute = ABSOLUTE.exec(raw)
  if (absolute) {
    rest = raw.slice(absolute[0].length)
    if (rest === '' || rest.startsWith('?')) rest = `/${rest}`
  }
  if (!rest.startsWith('/') || rest.startsWith('//')) return null
  const q = rest.indexOf('?')
  const path = q === -1 ? rest : rest.slice(0, q)
  const query = q === -1 ? '' : rest.slice(q + 1)
  if (!PATH.test(path) || !QUERY.test(query)) return null
  return { path, query }
}
