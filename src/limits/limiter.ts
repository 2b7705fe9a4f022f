import { RateLimiterRes } from 'rate-limiter-flexible'
import type { LimiterBackend, WindowOptions } from './backend.js'

/** The answer of a limiter: go ahead, or come back in `retryAfterSec` (the `Retry-After` value). */
export type LimitDecision = { ok: true } | { ok: false; retryAfterSec: number }

/** A counter per key over a fixed window. */
export interface Limiter {
  /** Counts one attempt for `key`. A backend failure rejects (callers fail closed). */
  consume(key: string): Promise<LimitDecision>
  /** Forgets the attempts of `key` (a login that succeeded). */
  reset(key: string): Promise<void>
}

/** Wraps one rate-limiter-flexible window in the small API the routes and the gateway call. */
export function createLimiter(backend: LimiterBackend, window: WindowOptions): Limiter {
  const counter = backend(window)
  return {
    async consume(key) {
      try {
        await counter.consume(key)
        return { ok: true }
      } catch (e) {
        // The library rejects with a RateLimiterRes when the key is over its limit, with an Error
        // when the store failed: only the first is a decision; the second propagates (fail closed).
        if (e instanceof RateLimiterRes) return { ok: false, retryAfterSec: Math.max(1, Math.ceil(e.msBeforeNext / 1000)) }
        throw e
      }
    },
    async reset(key) {
      await counter.delete(key)
    },
  }
}
