import { randomUUID } from 'node:crypto'
import type { Logger } from 'pino'
import type { Config } from '../config.js'
import { memoryBackend, redisBackend, type LimiterBackend } from './backend.js'
import { createBreaker } from './breaker.js'

/** Longest a limiter command may wait on Redis before the node counts in memory instead. */
export const LIMITER_COMMAND_TIMEOUT_MS = 500

/** Where this node's rate-limit counters live, and how to let go of it on shutdown. */
export interface LimiterStore {
  backend: LimiterBackend
  close(): Promise<void>
}

/**
 * The counters of this node: in Redis when REDIS_URL is set (one budget for every node, on its
 * own connection `<prefix>limits:<8 hex>`), else in memory. Rejects, naming the server, when Redis
 * does not answer within `connectTimeoutMs` at start, like the bus. The Redis driver is loaded
 * only then (decision 0361).
 */
export async function openLimiterStore(
  config: Pick<Config, 'redisUrl' | 'redisPrefix' | 'redisLimiterCooldownMs'>,
  log: Logger,
  connectTimeoutMs = 5_000,
): Promise<LimiterStore> {
  const url = config.redisUrl
  if (!url) return { backend: memoryBackend, close: async () => undefined }
  const { closeRedis, connectRedis, createRedisClient, describeRedisUrl } = await import('../cluster/redis-client.js')
  // Fail fast while Redis is away (no offline queue, a short command timeout), and after one
  // failure stop asking for a cool-down (the breaker): logins never wait on Redis twice.
  const client = createRedisClient(url, `${config.redisPrefix}limits:${randomUUID().slice(0, 8)}`, log, {
    enableOfflineQueue: false,
    commandTimeout: LIMITER_COMMAND_TIMEOUT_MS,
  })
  const breaker = createBreaker({
    coolDownMs: config.redisLimiterCooldownMs,
    onChange(open, err) {
      const fields = { event: open ? 'limiter_breaker_open' : 'limiter_breaker_closed', redis: describeRedisUrl(url) }
      if (open) log.warn({ ...fields, err }, `rate limits: redis failed; counting in memory, retrying every ${config.redisLimiterCooldownMs} ms`)
      else log.info(fields, 'rate limits: back on redis')
    },
  })
  await connectRedis(client, url, connectTimeoutMs)
  return { backend: redisBackend(client, config.redisPrefix, breaker), close: () => closeRedis(client) }
}
