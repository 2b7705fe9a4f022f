import type { Logger } from 'pino'
import { logTaskFailure } from '../health/task-errors.js'
import type { Store } from '../store/types.js'
import type { DeviceNotifier } from './device-notifier.js'
import type { Registry } from './registry.js'

/** A session revoked within this window is refused even if its handshake's lookup raced the revocation. */
const RECENT_MS = 60_000
/** At most this many offline sessions of one revocation are looked up to refresh device lists. */
const MAX_LOOKUPS = 1_000

/**
 * Acts on revocations, whichever way they arrive (the bus, the database watcher): every local
 * socket of a revoked session gets `revoked` and closes 4501; users whose revoked device had no
 * socket here get a fresh `devices` frame. Remembers recent revocations for racing handshakes.
 */
export class Revocations {
  private readonly recent = new Map<string, number>()

  constructor(private readonly deps: { store: Store; registry: Registry; notifier: DeviceNotifier; log: Logger; now: () => number }) {}

  /** Closes the local sockets of these sessions; `source` says how the revocation arrived (logged at debug). */
  apply(sessionIds: string[], source: 'bus' | 'watcher', revokedAt?: number | Map<string, number>): void {
    const at = this.deps.now()
    for (const [id, when] of this.recent) {
      if (at - when < RECENT_MS) break // insertion order is time order
      this.recent.delete(id)
    }
    const offline: string[] = []
    for (const id of sessionIds) {
      this.recent.delete(id)
      this.recent.set(id, at)
      const conns = this.deps.registry.ofSession(id)
      if (conns.length === 0) offline.push(id)
      const when = revokedAt instanceof Map ? revokedAt.get(id) : revokedAt
      for (const c of conns) {
        c.revokedAt ??= when ?? at
        c.revoke('SESSION_REVOKED')
      }
    }
    this.deps.log.debug({ event: 'revocations_applied', source, count: sessionIds.length, closed: sessionIds.length - offline.length }, 'revocations applied')
    if (offline.length > 0 && this.deps.registry.size > 0) void this.refreshDevices(offline)
  }

  /** True for a session this node saw revoked in the last minute. */
  wasJustRevoked(sessionId: string): boolean {
    return this.recent.has(sessionId)
  }

  private async refreshDevices(sessionIds: string[]): Promise<void> {
    try {
      for (const id of sessionIds.slice(0, MAX_LOOKUPS)) {
        const s = await this.deps.store.findSessionById(id)
        if (s && this.deps.registry.hasUser(s.userId)) this.deps.notifier.changed(s.userId, null, 'remote')
      }
    } catch (err) {
      logTaskFailure(this.deps.log, err, { event: 'devices_refresh_failed' }, 'could not look up revoked sessions')
    }
  }
}
