import type { Logger } from 'pino'
import { logTaskFailure } from '../health/task-errors.js'
import { DEAD_AFTER_HEARTBEATS, type LivenessWindow } from './liveness.js'
import type { Store } from '../store/types.js'

export interface NodePresenceDeps {
  store: Store
  log: Logger
  now: () => number
  nodeId: string
  /** NODE_HEARTBEAT_MS: how often this node refreshes its heartbeat row and purges dead nodes. */
  heartbeatMs: number
  /** Which heartbeats are old enough to purge, this node's blind spells left out. */
  window: LivenessWindow
  /** This node stalled long enough for others to count it dead: its rows may be gone, rewrite them. */
  onStalled: () => void
}

/**
 * This node's row in `nodes`: removes what a crashed run with the same id left, heartbeats every
 * period (5 s), purges nodes silent for 4 periods (20 s), and removes itself on stop. A dead node's
 * rows are therefore gone within 5 periods of its last beat, whichever live node purges them.
 * A node purges only right after a beat that was on time, and counts silence only while it could
 * see the store itself (the window): after a blind spell - an outage, a stall - it never declares
 * the others dead for a silence it could not see.
 */
export class NodePresence {
  private timer: NodeJS.Timeout | null = null
  private running: Promise<void> | null = null
  private readonly startedAt: number
  private lastBeat: number

  constructor(private readonly deps: NodePresenceDeps) {
    this.startedAt = this.lastBeat = deps.now()
  }

  async start(): Promise<void> {
    await this.deps.store.removeNode(this.deps.nodeId)
    await this.deps.store.heartbeatNode(this.deps.nodeId, this.startedAt, this.deps.now())
    this.lastBeat = this.deps.now()
    this.timer = setInterval(() => {
      this.running ??= this.beat().finally(() => (this.running = null))
    }, this.deps.heartbeatMs)
    this.timer.unref()
  }

  /**
   * Beats now instead of at the next period (the store is back after an outage: rows another node
   * purged meanwhile are rewritten at once, not up to a period later). No-op while a beat runs.
   */
  beatNow(): void {
    if (!this.timer) return
    this.running ??= this.beat().finally(() => (this.running = null))
  }

  /** Stops the heartbeat and removes this node and its connection rows. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    this.timer = null
    await this.running
    await this.deps.store.removeNode(this.deps.nodeId)
  }

  async beat(): Promise<void> {
    try {
      const now = this.deps.now()
      // Late by as much as others need to count us dead: our rows may be purged by now (one period
      // before the purge threshold, for clock skew between nodes).
      const stalled = now - this.lastBeat >= DEAD_AFTER_HEARTBEATS * this.deps.heartbeatMs
      await this.deps.store.heartbeatNode(this.deps.nodeId, this.startedAt, now)
      this.lastBeat = now
      if (stalled) {
        this.deps.log.warn({ event: 'node_stalled', node_id: this.deps.nodeId }, 'heartbeat was late; rewriting connection rows')
        this.deps.onStalled()
        // Blind until this beat: the others' silence was not seen either; judge them next period.
        return
      }
      const purged = await this.deps.store.purgeDeadNodes(this.deps.window.purgeBefore(now))
      if (purged.length > 0) this.deps.log.info({ event: 'nodes_purged', node_ids: purged }, 'removed dead nodes')
    } catch (err) {
      logTaskFailure(this.deps.log, err, { event: 'node_heartbeat_failed' }, 'could not heartbeat this node')
    }
  }
}
