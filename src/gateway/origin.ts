import type { IncomingMessage } from 'node:http'

/**
 * Whether the request's browser Origin may open a socket. No Origin (native clients) → yes. With an
 * allowlist → exact match. Without one → same-origin only: the Origin's host:port equals Host.
 */
export function isOriginAllowed(req: IncomingMessage, allowedOrigins: readonly string[] | undefined): boolean {
  const origin = req.headers.origin
  if (origin === undefined) return true
  if (allowedOrigins !== undefined) return allowedOrigins.includes(origin)
  const host = req.headers.host
  if (host === undefined || origin === 'null') return false
  try {
    const o = new URL(origin)
    // Parse Host with the Origin's scheme so that default ports compare equal (":443" vs none).
    return o.host === new URL(`${o.protocol}//${host}`).host
  } catch {
    return false
  }
}
