import type { IncomingMessage } from 'node:http'

/**
 * Every value of one header as the request sent it (`name` in lower case; header names match in
 * any case), in order. Read from `rawHeaders`: node's `headersDistinct` would build a second
 * object of every header the first time it is read (~1.3 KiB per WebSocket handshake, bench
 * scenario 2).
 */
export function rawHeaderValues(req: IncomingMessage, name: string): string[] {
  const raw = req.rawHeaders
  const values: string[] = []
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const key = raw[i]!
    if (key.length === name.length && key.toLowerCase() === name) values.push(raw[i + 1]!)
  }
  return values
}
