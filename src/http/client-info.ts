import type { IncomingMessage } from 'node:http'
import type { ClientInfo } from './router.js'

const MAX_UA = 256

/** The caller's IP (first X-Forwarded-For hop only when the proxy is trusted) and user agent. */
export function clientInfo(req: IncomingMessage, trustProxy: boolean): ClientInfo {
  let ip = req.socket.remoteAddress ?? 'unknown'
  if (trustProxy) {
    const forwarded = req.headers['x-forwarded-for']
    const first = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim()
    if (first && first.length <= 64) ip = first
  }
  if (ip.startsWith('::ffff:')) ip = ip.slice(7)
  const ua = req.headers['user-agent'] ?? ''
  return { ip, userAgent: ua.length > MAX_UA ? ua.slice(0, MAX_UA) : ua }
}
