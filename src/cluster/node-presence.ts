import type { Logger } from 'pino'
import { DEAD_AFTER_HEARTBEATS, PURGE_AFTER_HEARTBEATS } from './liveness.js'
import type { Store } from '../store/types.js'

export interface NodePresenceDeps {
  store: Store
  log: Logger
  now: () => number
  nodeId: string
  /** NODE_HEARTBEAT_MS: how often this node refreshes its heartbeat row and purges dead nodes. */
  heartbeatMs: number
  /** This node stalled long enough for others to count it dead: its rows may be gone, rewrite them. */
  onStalled: () => void
}

/**
 * This node's row in `nodes`: removes what a crashed run with the same id left, heartbeats every
 * period (5 s), purges nodes silent for 4 periods (20 s), and removes itself on stop. A dead node's
 * rows are therefore gone within 5 periods of its last beat, whichever live node purges them.
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
      }
      const purged = await this.deps.store.purgeDeadNodes(now - PURGE_AFTER_HEARTBEATS * this.deps.heartbeatMs)
      if (purged.length > 0) this.deps.log.info({ event: 'nodes_purged', node_ids: purged }, 'removed dead nodes')
    } catch (err) {
      this.deps.log.error({ err, event: 'node_heartbeat_failed' }, 'could not heartbeat this node')
    }
  }
}
