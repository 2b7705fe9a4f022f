import type { Logger } from 'pino'
import { logTaskFailure } from '../health/task-errors.js'
import type { Store } from '../store/types.js'
import type { Registry } from './registry.js'

/** How often live connections are checked against their session's expiry. */
export const EXPIRY_SWEEP_MS = 1_000

/**
 * Closes sockets whose session expired while connected: connections whose cached expiry passed get
 * their session re-read (it may have slid through HTTP use) and close 4502, or 4501 if it turns out
 * revoked or gone.
 */
export class ExpirySweep {
  private timer: NodeJS.Timeout | null = null
  private running: Promise<void> | null = null

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

  /** One pass. */
  async sweep(): Promise<void> {
    const now = this.deps.now()
    const due = new Set<string>()
    for (const conn of this.deps.registry.values()) if (conn.expiresAt <= now) due.add(conn.sessionId)
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
    }
  }
}
