import type { IncomingMessage } from 'node:http'
import { isIP } from 'node:net'
import type { Duplex } from 'node:stream'
import { rawHeaderValues } from './raw-headers.js'

/** Who is calling, as far as the transport tells. */
export interface ClientInfo {
  ip: string
  userAgent: string
}

const MAX_UA = 256

/**
 * The address our trusted proxy saw: the LAST X-Forwarded-For entry. Proxies append to the list,
 * so every earlier entry is whatever the client sent, and trusting it would let anyone choose the
 * IP that rate limits and session records see. Null when absent or not an IP.
 */
function forwardedFor(req: IncomingMessage): string | null {
  const last = rawHeaderValues(req, 'x-forwarded-for').at(-1)?.split(',').pop()?.trim()
  return last && isIP(last) ? last : null
}

/** The caller's IP (the trusted proxy's X-Forwarded-For entry when TRUST_PROXY) and user agent. */
export function clientInfo(req: IncomingMessage, trustProxy: boolean): ClientInfo {
  let ip = (trustProxy && forwardedFor(req)) || req.socket.remoteAddress || 'unknown'
  if (ip.startsWith('::ffff:')) ip = ip.slice(7)
  const ua = req.headers['user-agent'] ?? ''
  return { ip, userAgent: ua.length > MAX_UA ? ua.slice(0, MAX_UA) : ua }
}

/**
 * Once `remoteAddress` has been read, node's net.Socket keeps getpeername's answer (an object and
 * its address string, ~90 bytes) for the socket's life. A gateway socket lives for hours and the
 * registry already holds its address (shared per IP): the cached copy is dropped, and a later
 * `remoteAddress` asks the kernel again. `_peername` is node's internal name for that cache
 * (lib/net.js); test/gateway-socket-memory.test.ts fails if a node release renames it.
 */
export function forgetPeerName(socket: Duplex): void {
  const s = socket as Duplex & { _peername?: unknown }
  if (s._peername !== undefined) s._peername = undefined
}
