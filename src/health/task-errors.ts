import type { Logger } from 'pino'
import { StoreUnavailableError } from '../store/types.js'

/**
 * How a periodic task (revocation poll, heartbeat, row writer, expiry sweep, audit poll) reports a
 * failed round: an unreachable store is already counted by the store's DependencyHealth (one line
 * when it goes down, one a minute, one when it is back), so it is not logged again here; anything
 * else is a bug and is logged with its stack.
 */
export function logTaskFailure(log: Logger, err: unknown, fields: Record<string, unknown>, msg: string): void {
  if (err instanceof StoreUnavailableError) return
  log.error({ ...fields, err }, msg)
}
