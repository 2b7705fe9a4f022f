import type { ErrorCode } from '../errors.js'

/**
 * What the gateway reports for metrics. src/metrics.ts provides an object of this shape; the
 * default does nothing.
 */
export interface GatewayObserver {
  /** One call per upgrade request: accepted, or the error code it was refused with. */
  handshake(result: 'ok' | ErrorCode): void
  connectionOpened(): void
  /** The close code the server sent or received (1006 when the socket was cut without one). */
  connectionClosed(code: number): void
}

/** The observer used when none is given. */
export const noopObserver: GatewayObserver = {
  handshake() {},
  connectionOpened() {},
  connectionClosed() {},
}
