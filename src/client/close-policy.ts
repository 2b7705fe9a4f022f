import { CLOSE_CODES, type CloseName } from '../gateway/close-codes.js'

/** Why a connection ended for good (CLIENT.md's reconnect table). */
export type EndReason = 'replaced' | 'revoked' | 'expired' | 'unauthorized' | 'protocol' | 'closed'

/** What a close code tells the client to do. */
export type CloseAction = { reconnect: true } | { reconnect: false; reason: EndReason; dropCredentials: boolean }

const TERMINAL: Partial<Record<CloseName, EndReason>> = {
  NORMAL: 'closed',
  INVALID_PAYLOAD: 'protocol',
  MESSAGE_TOO_BIG: 'protocol',
  SESSION_REPLACED: 'replaced',
  SESSION_REVOKED: 'revoked',
  SESSION_EXPIRED: 'expired',
}

/** The server's own table, by code. */
const BY_CODE = new Map(Object.entries(CLOSE_CODES).map(([name, c]) => [c.code as number, name as CloseName]))

/**
 * Reads the server's close-code table: a code it marks `reconnect` → reconnect; 4500/4501/4502
 * and 1007/1009 → stop (4501/4502 drop the credentials). Codes outside the table: 4500–4999 are
 * terminal for the token (stop as `revoked`), anything else (1006, 1012, …) is a network event
 * and reconnects (docs/decisions/0305).
 */
export function closeAction(code: number): CloseAction {
  const name = BY_CODE.get(code)
  if (name === undefined) {
    return code >= 4500 && code <= 4999 ? { reconnect: false, reason: 'revoked', dropCredentials: true } : { reconnect: true }
  }
  if (CLOSE_CODES[name].reconnect) return { reconnect: true }
  const reason = TERMINAL[name] ?? 'protocol'
  return { reconnect: false, reason, dropCredentials: reason === 'revoked' || reason === 'expired' }
}

/** The close code a `revoked` frame announces, for a socket cut before its close frame arrived. */
export const codeOfName = (name: string): number | undefined => (CLOSE_CODES as Record<string, { code: number }>)[name]?.code
