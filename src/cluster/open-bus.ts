import type { Logger } from 'pino'
import type { Config } from '../config.js'
import { LocalBus } from './local-bus.js'
import type { Bus } from './bus.js'

/**
 * The bus of this node: Redis pub/sub between nodes when REDIS_URL is set, else in-process. The
 * Redis bus and its driver are loaded only then (decision 0361).
 */
export async function openBus(config: Pick<Config, 'redisUrl' | 'redisPrefix'> & Partial<Pick<Config, 'busMaxAgeMs'>>, log: Logger): Promise<Bus> {
  if (!config.redisUrl) return new LocalBus()
  const { RedisBus } = await import('./redis-bus.js')
  const bus = await RedisBus.open({ url: config.redisUrl, prefix: config.redisPrefix, log, maxAgeMs: config.busMaxAgeMs })
  log.info({ event: 'bus_ready', channel: bus.channel }, 'cross-node events over redis')
  return bus
}
