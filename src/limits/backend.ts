import type { Redis } from 'ioredis'
import { RateLimiterMemory, RateLimiterRedis, type RateLimiterAbstract } from 'rate-limiter-flexible'

/** One fixed window: `points` per `durationSec`, keys namespaced by `keyPrefix`. */
export interface WindowOptions {
  keyPrefix: string
  points: number
  durationSec: number
}

/** Builds the rate-limiter-flexible counter for a window: in memory now, Redis for scale-out. */
export type LimiterBackend = (window: WindowOptions) => RateLimiterAbstract

const toOptions = (w: WindowOptions) => ({ keyPrefix: w.keyPrefix, points: w.points, duration: w.durationSec })

/** Counters in this process: right for a single node. */
export const memoryBackend: LimiterBackend = (w) => new RateLimiterMemory(toOptions(w))

/**
 * Counters shared by every node through Redis, under `<prefix>rl:<window>:<key>` (REDIS_PREFIX).
 * While Redis is unreachable (or slower than the client's command timeout) each node falls back
 * to its own in-memory counter (the library's insurance limiter), so limits still hold per node
 * and a login never waits on Redis. The client should not queue commands while disconnected.
 */
export function redisBackend(client: Redis, prefix: string): LimiterBackend {
  return (w) =>
    new RateLimiterRedis({
      ...toOptions(w),
      storeClient: client,
      keyPrefix: `${prefix}rl:${w.keyPrefix}`,
      rejectIfRedisNotReady: true,
      insuranceLimiter: new RateLimiterMemory(toOptions(w)),
    })
}
