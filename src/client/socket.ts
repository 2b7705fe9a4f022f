import type { Credentials } from './http.js'

/** The part of a WebSocket the SDK uses: the browser's and `ws`'s both fit. */
export interface SocketLike {
  onopen: ((ev: unknown) => void) | null
  onmessage: ((ev: { data: unknown }) => void) | null
  onclose: ((ev: { code: number }) => void) | null
  onerror: ((ev: unknown) => void) | null
  send(data: string): void
  close(code?: number): void
  /** Drops the socket without a closing handshake (ws only; a browser has no such call). */
  terminate?(): void
  /**
   * A refused upgrade's own answer, set before `onclose` by a transport that can read it (Node's
   * `ws`); a browser sees only 1006 and never sets it.
   */
  refusal?: Refusal
}

/** The HTTP answer to an upgrade that was refused: its status and `Retry-After` (seconds). */
export interface Refusal {
  status: number
  retryAfterSec: number | undefined
}

/** How an environment opens `/ws` with credentials: subprotocols in a browser, headers in Node. */
export type OpenSocket = (url: string, credentials: Credentials) => SocketLike

/** Calls `listener` when the environment says the network is back (a browser's `online`); returns the unsubscribe. */
export type OnOnline = (listener: () => void) => () => void

/** Timers and clock the connection runs on; a test may pass its own. */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown
  clearTimeout(id: unknown): void
  now(): number
}

export const realTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (id) => clearTimeout(id as ReturnType<typeof setTimeout>),
  now: () => Date.now(),
}
