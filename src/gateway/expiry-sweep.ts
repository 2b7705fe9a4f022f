import type { Logger } from 'pino'
import { logTaskFailure } from '../health/task-errors.js'
import type { Store } from '../store/types.js'
import type { Registry } from './registry.js'

/** How often live connections are checked against their session's expiry. */
export const EXPIRY_SWEEP_MS = 1_000

/**
 * Closes sockets whose session expired while connected: connections whose cached expiry passed get
 * their session re-read (it may have slid through HTTP use) and close 4502, or 4501 if it turns out
 * revoked or gone. A pass walks the live connections only once the earliest cached expiry may
 * have passed (sessions live for days, so nearly every pass costs nothing; a walk of 19k
 * sockets every second was part of the node's idle CPU).
 */
export class ExpirySweep {
  private timer: NodeJS.Timeout | null = null
  private running: Promise<void> | null = null
  /** No live connection's cached expiry is earlier than this (a lower bound; closed sockets may have set it). */
  private earliest = Number.POSITIVE_INFINITY

  constructor(private readonly deps: { store: Store; registry: Registry; log: Logger; now: () => number }) {}

  start(): void {
    this.timer = setInterval(() => {
      this.running ??= this.sweep().finally(() => (this.running = null))
    }, EXPIRY_SWEEP_MS)
    this.timer.unref()
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    this.timer = null
    await this.running
  }

  /** A connection that opened (or whose cached expiry changed): it is due at its `expiresAt`. */
  track(conn: { expiresAt: number }): void {
    if (conn.expiresAt < this.earliest) this.earliest = conn.expiresAt
  }

  /** One pass. */
  async sweep(): Promise<void> {
    const now = this.deps.now()
    if (now < this.earliest) return
    const due = new Set<string>()
    let earliest = Number.POSITIVE_INFINITY
    for (const conn of this.deps.registry.values()) {
      if (conn.expiresAt <= now) due.add(conn.sessionId)
      else if (conn.expiresAt < earliest) earliest = conn.expiresAt
    }
    this.earliest = earliest
    for (const sessionId of due) {
      try {
        const s = await this.deps.store.findSessionById(sessionId)
        const conns = this.deps.registry.ofSession(sessionId)
        if (!s || s.revokedAt !== null) for (const c of conns) c.revoke('SESSION_REVOKED')
        else if (s.expiresAt <= this.deps.now()) for (const c of conns) c.revoke('SESSION_EXPIRED')
        else for (const c of conns) c.expiresAt = s.expiresAt
      } catch (err) {
        logTaskFailure(this.deps.log, err, { event: 'expiry_sweep_failed', session_id: sessionId }, 'could not check session expiry')
      }
      // Slid (a later expiry) or still due after a failed read: the next pass looks again when due.
      for (const c of this.deps.registry.ofSession(sessionId)) this.track(c)
    }
  }
}
