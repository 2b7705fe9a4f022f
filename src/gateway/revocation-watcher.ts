import type { Logger } from 'pino'
import { logTaskFailure } from '../health/task-errors.js'
import type { Store } from '../store/types.js'

/** How often the store is asked whether another process wrote to it. */
export const WATCH_INTERVAL_MS = 250
/** Revocations are read back this far behind the newest one seen (clock skew between writers). */
export const WATCH_SLACK_MS = 5_000

export interface RevocationWatcherDeps {
  store: Store
  log: Logger
  now: () => number
  /** Called with sessions revoked by another process (the CLI, another node). */
  onRevoked: (sessionIds: string[], revokedAt: Map<string, number>) => void
  intervalMs?: number
}

/**
 * Finds revocations written to the shared database by other processes: polls the store's external
 * change counter and, when it moved (or the store cannot tell), lists sessions revoked since the
 * watermark. Each revocation is reported once.
 */
export class RevocationWatcher {
  private timer: NodeJS.Timeout | null = null
  private polling: Promise<void> | null = null
  private counter: number | null = null
  private watermark = 0
  /** Revocations already reported (or handled locally), by revoked_at, pruned behind the watermark. */
  private readonly seen = new Map<string, number>()

  constructor(private readonly deps: RevocationWatcherDeps) {}

  async start(): Promise<void> {
    this.watermark = this.deps.now()
    this.counter = await this.deps.store.externalChangeCounter()
    this.timer = setInterval(() => {
      this.polling ??= this.poll().finally(() => (this.polling = null))
    }, this.deps.intervalMs ?? WATCH_INTERVAL_MS)
    this.timer.unref()
  }

  /** Records revocations this node already acted on, so the poll does not report them again. */
  markHandled(sessionIds: string[]): void {
    const at = this.deps.now()
    for (const id of sessionIds) this.seen.set(id, at)
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    this.timer = null
    await this.polling
  }

  /** One poll. */
  async poll(): Promise<void> {
    try {
      const counter = await this.deps.store.externalChangeCounter()
      if (counter !== null && counter === this.counter) return
      this.counter = counter
      const rows = await this.deps.store.listRevokedSince(this.watermark - WATCH_SLACK_MS)
      const fresh: string[] = []
      const times = new Map<string, number>()
      for (const r of rows) {
        if (r.revokedAt > this.watermark) this.watermark = r.revokedAt
        if (this.seen.has(r.id)) continue
        this.seen.set(r.id, r.revokedAt)
        fresh.push(r.id)
        times.set(r.id, r.revokedAt)
      }
      const horizon = this.watermark - 2 * WATCH_SLACK_MS
      for (const [id, at] of this.seen) if (at < horizon) this.seen.delete(id)
      if (fresh.length > 0) this.deps.onRevoked(fresh, times)
    } catch (err) {
      logTaskFailure(this.deps.log, err, { event: 'revocation_watch_failed' }, 'could not poll for revocations')
    }
  }
}
