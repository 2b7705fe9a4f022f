import type { Redis } from 'ioredis'
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible'
import type { Breaker } from './breaker.js'

/** One fixed window: `points` per `durationSec`, keys namespaced by `keyPrefix`. */
export interface WindowOptions {
  keyPrefix: string
  points: number
  durationSec: number
}

/**
 * The part of a rate-limiter-flexible counter the limits use: `consume` resolves when the key is
 * under its limit, rejects with a RateLimiterRes when it is over, with an Error when the store failed.
 */
export interface WindowCounter {
  consume(key: string): Promise<unknown>
  delete(key: string): Promise<unknown>
}

/** Builds the counter for a window: in memory now, Redis for scale-out. */
export type LimiterBackend = (window: WindowOptions) => WindowCounter

const toOptions = (w: WindowOptions) => ({ keyPrefix: w.keyPrefix, points: w.points, duration: w.durationSec })

/** Counters in this process: right for a single node. */
export const memoryBackend: LimiterBackend = (w) => new RateLimiterMemory(toOptions(w))

/**
 * Counters shared by every node through Redis, under `<prefix>rl:<window>:<key>` (REDIS_PREFIX),
 * behind `breaker` (one per Redis connection, shared by every window). A Redis error or timeout
 * opens it: for its cool-down each node counts in its own memory without asking Redis, so a login
 * costs at most one command timeout however many windows it passes, and limits still hold per
 * node. The client must not queue commands while disconnected (no late replay).
 */
export function redisBackend(client: Redis, prefix: string, breaker: Breaker): LimiterBackend {
  return (w) => {
    const shared = new RateLimiterRedis({ ...toOptions(w), storeClient: client, keyPrefix: `${prefix}rl:${w.keyPrefix}`, rejectIfRedisNotReady: true })
    const local = new RateLimiterMemory(toOptions(w))
    /** Runs `op` on Redis when the breaker lets it, else (or when Redis fails) on the local counter. */
    async function either(op: (c: WindowCounter) => Promise<unknown>): Promise<unknown> {
      if (!breaker.tryDependency()) return op(local)
      try {
        const result = await op(shared)
        breaker.succeeded()
        return result
      } catch (e) {
        // Over the limit is Redis answering: a decision, not a failure.
        if (e instanceof RateLimiterRes) {
          breaker.succeeded()
          throw e
        }
        breaker.failed(e)
        return op(local)
      }
    }
    return { consume: (key) => either((c) => c.consume(key)), delete: (key) => either((c) => c.delete(key)) }
  }
}
