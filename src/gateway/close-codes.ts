/**
 * The WebSocket close codes chatgate uses: one table for the code, the docs (docs/API.md, checked
 * by test/gateway-close-codes.test.ts) and the clients. 4000–4499 may reconnect; 4500–4999 are
 * terminal for the token.
 */
export const CLOSE_CODES = {
  NORMAL: { code: 1000, clientShould: '–', reconnect: false },
  GOING_AWAY: { code: 1001, clientShould: 'node restarting: reconnect with jittered backoff', reconnect: true },
  INVALID_PAYLOAD: { code: 1007, clientShould: 'fix the client (invalid UTF-8)', reconnect: false },
  POLICY_VIOLATION: { code: 1008, clientShould: 'too many messages/fragments: back off, reconnect', reconnect: true },
  MESSAGE_TOO_BIG: { code: 1009, clientShould: 'fix the client (frames > 64 KiB)', reconnect: false },
  INTERNAL_ERROR: { code: 1011, clientShould: 'reconnect with backoff', reconnect: true },
  RECONNECT: { code: 4000, clientShould: 'node rebalancing: reconnect with backoff', reconnect: true },
  SESSION_REPLACED: {
    code: 4500,
    clientShould: 'do **not** reconnect automatically; the pair is live on another device',
    reconnect: false,
  },
  SESSION_REVOKED: {
    code: 4501,
    clientShould: 'go to login (logged out, revoked, password changed, account disabled)',
    reconnect: false,
  },
  SESSION_EXPIRED: { code: 4502, clientShould: 'go to login', reconnect: false },
} as const

export type CloseName = keyof typeof CLOSE_CODES

/** Close codes by name, for call sites: `CloseCode.SESSION_REVOKED` → 4501. */
export const CloseCode = Object.fromEntries(Object.entries(CLOSE_CODES).map(([name, c]) => [name, c.code])) as {
  readonly [N in CloseName]: (typeof CLOSE_CODES)[N]['code']
}

/** The close codes a `revoked` frame announces; the frame's `reason` is the code's name. */
export type TerminalCloseName = 'SESSION_REPLACED' | 'SESSION_REVOKED' | 'SESSION_EXPIRED'

/** Not a close frame: what the server logs when it cuts a connection without one (terminate). */
export const ABNORMAL_CLOSURE = 1006
