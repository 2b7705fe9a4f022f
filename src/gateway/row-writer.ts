import type { Logger } from 'pino'
import { logTaskFailure } from '../health/task-errors.js'
import type { ConnectionRow, Store } from '../store/types.js'

/** After a failed write, the queue is retried after this long (the rows stay queued meanwhile). */
const RETRY_MS = 1_000
/**
 * At most one batch per this many ms. A commit costs far more than a row (it was a third of the
 * server's CPU in a handshake storm at one commit per turn), so under load the turns share one.
 */
export const MIN_BATCH_INTERVAL_MS = 20

/**
 * Write-behind of connection rows: opens and closes are queued and written in one
 * `store.applyConnectionChanges` call at the end of the event-loop turn (at most one per
 * MIN_BATCH_INTERVAL_MS under load), batches strictly in order. A connection opened and closed
 * before its batch left never touches the database.
 */
export class ConnectionRowWriter {
  private opened = new Map<string, ConnectionRow>()
  private closed = new Set<string>()
  /** Queued opens of new connections (not rewrites): closing one of these needs no delete. */
  private readonly fresh = new Set<string>()
  private scheduled = false
  private lastBatchAt = -Infinity
  private retryTimer: NodeJS.Timeout | null = null
  private inFlight: Promise<void> | null = null
  private stopped = false

  constructor(private readonly deps: { store: Store; log: Logger }) {}

  /** A new connection: its row is inserted with the next batch. */
  recordOpened(row: ConnectionRow): void {
    this.fresh.add(row.id)
    this.opened.set(row.id, row)
    this.schedule()
  }

  /** A row that may already be stored is written again (insert or replace). */
  recordRewrite(row: ConnectionRow): void {
    this.opened.set(row.id, row)
    this.schedule()
  }

  recordClosed(id: string): void {
    this.opened.delete(id)
    if (this.fresh.delete(id)) return
    this.closed.add(id)
    this.schedule()
  }

  /** Row changes not yet handed to the store. */
  get pending(): number {
    return this.opened.size + this.closed.size
  }

  /** Writes everything queued so far; rejects when the store does (the rows stay queued). */
  async flush(): Promise<void> {
    do await this.writeBatch()
    while (this.pending > 0)
  }

  /** Stops background writes and waits for the one in flight; `flush()` still works after. */
  async stop(): Promise<void> {
    this.stopped = true
    if (this.retryTimer) clearTimeout(this.retryTimer)
    this.retryTimer = null
    await this.inFlight?.catch(() => undefined)
  }

  private schedule(): void {
    if (this.scheduled || this.stopped || this.retryTimer) return
    this.scheduled = true
    const wait = this.lastBatchAt + MIN_BATCH_INTERVAL_MS - performance.now()
    if (wait <= 0) setImmediate(() => this.writeScheduled())
    else setTimeout(() => this.writeScheduled(), wait).unref()
  }

  private writeScheduled(): void {
    this.scheduled = false
    if (this.stopped) return
    this.writeBatch().catch((err) => {
      logTaskFailure(this.deps.log, err, { event: 'connection_rows_failed', pending: this.pending }, 'could not write connection rows; retrying')
      if (this.stopped || this.retryTimer) return
      this.retryTimer = setTimeout(() => {
        this.retryTimer = null
        this.schedule()
      }, RETRY_MS)
      this.retryTimer.unref()
    })
  }

  private async writeBatch(): Promise<void> {
    // One batch at a time: a delete must never reach the store before its insert.
    while (this.inFlight) await this.inFlight.catch(() => undefined)
    if (this.opened.size === 0 && this.closed.size === 0) return
    const opened = [...this.opened.values()]
    const closed = [...this.closed]
    const freshInBatch = new Set<string>()
    for (const row of opened) if (this.fresh.delete(row.id)) freshInBatch.add(row.id)
    this.opened = new Map()
    this.closed = new Set()
    this.lastBatchAt = performance.now()
    const write = this.deps.store.applyConnectionChanges(opened, closed)
    this.inFlight = write
    try {
      await write
    } catch (err) {
      this.requeue(opened, closed, freshInBatch)
      throw err
    } finally {
      this.inFlight = null
    }
  }

  /** Puts a failed batch back in front of what was queued since, keeping insert→delete order. */
  private requeue(opened: ConnectionRow[], closed: string[], freshInBatch: Set<string>): void {
    const newer = this.opened
    this.opened = new Map()
    for (const row of opened) {
      if (this.closed.has(row.id)) {
        // Closed while the failed batch was out: a new row never reached the store, so drop both.
        if (freshInBatch.has(row.id)) this.closed.delete(row.id)
        continue
      }
      this.opened.set(row.id, row)
      if (freshInBatch.has(row.id)) this.fresh.add(row.id)
    }
    for (const [id, row] of newer) this.opened.set(id, row)
    for (const id of closed) this.closed.add(id)
  }
}
