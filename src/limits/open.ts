import { randomUUID } from 'node:crypto'
import type { Logger } from 'pino'
import type { Config } from '../config.js'
import { closeRedis, connectRedis, createRedisClient } from '../cluster/redis-client.js'
import { memoryBackend, redisBackend, type LimiterBackend } from './backend.js'

/** Longest a limiter command may wait on Redis before the node counts in memory instead. */
const LIMITER_COMMAND_TIMEOUT_MS = 500

/** Where this node's rate-limit counters live, and how to let go of it on shutdown. */
export interface LimiterStore {
  backend: LimiterBackend
  close(): Promise<void>
}

/**
 * The counters of this node: in Redis when REDIS_URL is set (one budget for every node, on its
 * own connection `<prefix>limits:<8 hex>`), else in memory. Rejects, naming the server, when Redis
 * does not answer within `connectTimeoutMs` at start, like the bus.
 */
export async function openLimiterStore(config: Pick<Config, 'redisUrl' | 'redisPrefix'>, log: Logger, connectTimeoutMs = 5_000): Promise<LimiterStore> {
  const url = config.redisUrl
  if (!url) return { backend: memoryBackend, close: async () => undefined }
  // Fail fast while Redis is away (no offline queue, a short command timeout): the insurance
  // counter answers instead, so logins never hang on Redis.
  const client = createRedisClient(url, `${config.redisPrefix}limits:${randomUUID().slice(0, 8)}`, log, {
    enableOfflineQueue: false,
    commandTimeout: LIMITER_COMMAND_TIMEOUT_MS,
  })
  await connectRedis(client, url, connectTimeoutMs)
  return { backend: redisBackend(client, config.redisPrefix), close: () => closeRedis(client) }
}
