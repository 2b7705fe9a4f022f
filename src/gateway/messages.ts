import type { RawData } from 'ws'
import type { LiveConnection } from './connection.js'
import { errorFrame, PONG_FRAME } from './frames.js'

/**
 * Handles one client frame: the rate limit first (over it → close 1008), then JSON text with a
 * string `type`. `ping` → `pong`; another type → `error` UNKNOWN_TYPE; binary, not JSON or no
 * type → `error` BAD_REQUEST. The socket stays open on errors.
 */
export function handleClientMessage(conn: LiveConnection, data: RawData, isBinary: boolean, now: number): void {
  if (!conn.admitMessage(now)) {
    conn.close('POLICY_VIOLATION')
    return
  }
  if (isBinary) {
    conn.send(errorFrame('BAD_REQUEST'))
    return
  }
  let type: unknown
  try {
    const msg: unknown = JSON.parse(String(data))
    if (typeof msg === 'object' && msg !== null && !Array.isArray(msg)) type = (msg as { type?: unknown }).type
  } catch {
    // not JSON: answered below
  }
  if (typeof type !== 'string') conn.send(errorFrame('BAD_REQUEST'))
  else if (type === 'ping') conn.send(PONG_FRAME)
  else conn.send(errorFrame('UNKNOWN_TYPE'))
}
