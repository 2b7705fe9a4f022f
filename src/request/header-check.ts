import type { IncomingMessage } from 'node:http'
import { ApiError } from '../errors.js'

// C0 controls but TAB, DEL, and C1 controls: node's parser refuses C0 and DEL itself, but bytes
// 0x80-0x9F reach us as Latin-1 C1 controls (8-bit CSI etc.) that could end up in a stored
// User-Agent and on an operator's terminal.
const CONTROL = /(?!\t)\p{Cc}/u

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
