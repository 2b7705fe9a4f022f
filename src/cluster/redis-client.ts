import { Redis, type RedisOptions } from 'ioredis'
import type { Logger } from 'pino'
import { DependencyHealth } from '../health/dependency-health.js'

/** Longest pause between two reconnection attempts. */
const MAX_BACKOFF_MS = 5_000

/** Exponential backoff with jitter: ~50-100 ms after the first failure, then doubling, capped at 5 s. */
export const reconnectDelay = (attempt: number) => {
  const base = Math.min(MAX_BACKOFF_MS, 50 * 2 ** Math.min(attempt, 10))
  return Math.round(base / 2 + (Math.random() * base) / 2)
}

/** The server part of a Redis URL, for messages (a URL may carry a password). */
export function describeRedisUrl(url: string): string {
  const u = new URL(url)
  return `${u.hostname || '127.0.0.1'}:${u.port || 6379}`
}

/**
 * The one place chatgate creates Redis connections (the bus, the shared rate limits): reconnects
 * forever with backoff, names the connection (visible in CLIENT LIST), and keeps its outage logs
 * quiet through a DependencyHealth: one `error` when it is lost, one `warn` per `warnEveryMs`
 * while it stays away (failed attempts counted), one `info` when it is back.
 */
export function createRedisClient(url: string, name: string, log: Logger, options: RedisOptions = {}, warnEveryMs?: number): Redis {
  const client = new Redis(url, {
    connectionName: name,
    retryStrategy: reconnectDelay,
    lazyConnect: true,
    ...options,
  })
  const health = new DependencyHealth({
    name: 'redis',
    log,
    warnEveryMs,
    fields: { redis: describeRedisUrl(url), connection: name },
    messages: { down: 'redis connection lost; reconnecting with backoff', stillDown: 'redis still unreachable', up: 'redis connection restored' },
  })
  // Each lost connection and each failed attempt ends in 'reconnecting' (never after our own quit):
  // one failure each, with the latest 'error' as its cause; counted, not logged one by one.
  let lastError: Error | undefined
  client.on('error', (err: Error) => {
    lastError = err
  })
  client.on('reconnecting', () => health.reportFailure(lastError ?? new Error('connection lost')))
  client.on('ready', () => {
    lastError = undefined
    health.reportSuccess()
  })
  return client
}

/**
 * Connects a lazy client and waits until it is ready, or rejects after `timeoutMs` with a message
 * naming the server (the client is then disconnected, so it stops retrying).
 */
export async function connectRedis(client: Redis, url: string, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const ready = new Promise<void>((resolve) => client.once('ready', () => resolve()))
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Redis is not reachable at ${describeRedisUrl(url)} (no connection within ${timeoutMs} ms)`)), timeoutMs)
  })
  // connect() rejects on the first failed attempt although the client keeps retrying; the ready
  // event or the timeout decides.
  client.connect().catch(() => undefined)
  try {
    await Promise.race([ready, timeout])
  } catch (e) {
    client.disconnect()
    throw e
  } finally {
    clearTimeout(timer)
  }
}

/** Closes a connection: QUIT (flushes pending replies) when it is up, else drops it at once. */
export async function closeRedis(client: Redis): Promise<void> {
  if (client.status === 'ready') {
    await client.quit().catch(() => client.disconnect())
  } else {
    client.disconnect()
  }
}
