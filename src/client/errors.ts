/**
 * What every SDK failure is: the server's error code when it sent one (`INCORRECT_PASSWORD`,
 * `RATE_LIMITED`, …), `NETWORK` when no answer came, `BAD_RESPONSE` for an answer the SDK cannot
 * read (no envelope, not JSON), `BAD_FRAME` / `UNKNOWN_FRAME` for such WebSocket frames.
 */
export class ChatgateError extends Error {
  override readonly name = 'ChatgateError'
  constructor(
    /** The HTTP status; 0 when there was none (network, frames). */
    readonly status: number,
    readonly code: string,
    message: string,
    /** Seconds, from `Retry-After` (429, 503). */
    readonly retryAfter?: number,
  ) {
    super(message)
  }
}
