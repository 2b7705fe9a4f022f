import type { IncomingMessage } from 'node:http'
import { ApiError } from '../errors.js'
import { rawHeaderValues } from './raw-headers.js'

// C0 controls but TAB, DEL, and C1 controls (Unicode's Cc, U+0000-U+001F and U+007F-U+009F, less
// TAB): node's parser refuses C0 and DEL itself, but bytes 0x80-0x9F reach us as Latin-1 C1
// controls (8-bit CSI etc.) that could end up in a stored User-Agent and on an operator's terminal.
// A plain class, not `\p{Cc}` with a lookahead: it runs on every header of every request.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is its purpose
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f-\x9f]/

/** The name of the first header whose value holds a control character, or null. Shared with the gateway's upgrade check. */
export function findControlCharacterHeader(req: IncomingMessage): string | null {
  const raw = req.rawHeaders
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (CONTROL.test(raw[i + 1]!)) return raw[i]!.toLowerCase()
  }
  return null
}

/** Refuses (400) a request or upgrade whose header values hold a control character. */
export function refuseControlCharacterHeaders(req: IncomingMessage): void {
  if (findControlCharacterHeader(req) !== null) throw new ApiError('BAD_REQUEST', 'A header value holds a control character.')
}

// uri-host [":" port] (RFC 3986): an IP literal or a reg-name, which may be empty (a target without authority).
const HOST = /^(?:\[[0-9A-Za-z:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]*)(?::[0-9]*)?$/

/**
 * Refuses (400) what RFC 9112 section 3.2 says a server must: an HTTP/1.1 request without Host,
 * more than one Host, or a Host that is not `host[:port]`. Node's own check (requireHostHeader) is
 * off: it answers a bare 400 without the envelope, and skips upgrades.
 */
export function refuseBadHost(req: IncomingMessage): void {
  const hosts = rawHeaderValues(req, 'host')
  const missing = hosts.length === 0 && req.httpVersionMajor === 1 && req.httpVersionMinor >= 1
  if (missing || hosts.length > 1 || (hosts.length === 1 && !HOST.test(hosts[0]!))) {
    throw new ApiError('BAD_REQUEST', 'A request needs exactly one Host header holding host[:port].')
  }
}
