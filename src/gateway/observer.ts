import type { ErrorCode } from '../errors.js'

/**
 * What the gateway reports for metrics. src/metrics.ts provides an object of this shape; the
 * default does nothing.
 */
export interface GatewayObserver {
  /** One call per upgrade request: accepted (once the welcome is sent), or the error code it was refused with; `seconds` since the request. */
  handshake(result: 'ok' | ErrorCode, seconds: number): void
  connectionOpened(): void
  /** The close code the server sent or received (1006 when the socket was cut without one). */
  connectionClosed(code: number): void
  /** A socket closed by a revocation is gone: seconds from the revocation's time (on whichever node) to the close. */
  revocationClosed?(seconds: number): void
}

/** The observer used when none is given. */
export const noopObserver: GatewayObserver = {
  handshake() {},
  connectionOpened() {},
  connectionClosed() {},
}
