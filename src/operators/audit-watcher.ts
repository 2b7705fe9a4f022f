import type { Logger } from 'pino'
import { logTaskFailure } from '../health/task-errors.js'
import type { AuditRow, Store } from '../store/types.js'

/** How often the store is asked for audit entries written by other processes. */
export const AUDIT_WATCH_INTERVAL_MS = 1_000
/** Entries are read back this far behind the newest one seen (clock skew between writers). */
const SLACK_MS = 5_000
/** Entries read per poll at most; the rest come on the next polls. */
const BATCH = 500

export interface AuditWatcherDeps {
  store: Store
  log: Logger
  now: () => number
  /** This node's id: entries whose `countOn` names it are counted here. */
  nodeId: string
  /** An entry this node must count in its metrics (the CLI's actions when no bus carried them). */
  onCount: (entry: AuditRow) => void
  /** Some entry appeared that this process did not write (the console's live feed). */
  onNew: () => void
  intervalMs?: number
}

/**
 * Finds audit entries other processes wrote (the CLI, other nodes): polls the store's external
 * change counter (SQLite) or the entries themselves (PostgreSQL) since a watermark, reporting each
 * entry once. This is how a single node without Redis counts the CLI's actions.
 */
export class AuditWatcher {
  private timer: NodeJS.Timeout | null = null
  private polling: Promise<void> | null = null
  private counter: number | null = null
  private watermark = 0
  private readonly seen = new Map<string, number>()

  constructor(private readonly deps: AuditWatcherDeps) {}

  async start(): Promise<void> {
    this.watermark = this.deps.now()
    this.counter = await this.deps.store.externalChangeCounter()
    this.timer = setInterval(() => {
      this.polling ??= this.poll().finally(() => (this.polling = null))
    }, this.deps.intervalMs ?? AUDIT_WATCH_INTERVAL_MS)
    this.timer.unref()
  }

  /** An entry this process wrote: never reported back to it. */
  markOwn(entry: AuditRow): void {
    this.seen.set(entry.id, entry.at)
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
      const rows = await this.deps.store.listAuditSince(this.watermark - SLACK_MS, BATCH)
      let fresh = 0
      for (const r of rows) {
        if (r.at > this.watermark) this.watermark = r.at
        if (this.seen.has(r.id)) continue
        this.seen.set(r.id, r.at)
        fresh++
        if (r.countOn === this.deps.nodeId) this.deps.onCount(r)
      }
      // A full batch may have more behind it: read again on the next tick whatever the counter says.
      if (rows.length === BATCH) this.counter = null
      const horizon = this.watermark - 2 * SLACK_MS
      for (const [id, at] of this.seen) if (at < horizon) this.seen.delete(id)
      if (fresh > 0) this.deps.onNew()
    } catch (err) {
      logTaskFailure(this.deps.log, err, { event: 'audit_watch_failed' }, 'could not poll the audit trail')
    }
  }
}
