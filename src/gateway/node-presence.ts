import type { Logger } from 'pino'
import { NODE_DEAD_AFTER_MS } from '../devices.js'
import type { Store } from '../store/types.js'

/** How often this node refreshes its heartbeat row and purges dead nodes. */
export const NODE_HEARTBEAT_MS = 5_000
/** Nodes silent for this long are removed with their connection rows. */
export const NODE_PURGE_AFTER_MS = 30_000

export interface NodePresenceDeps {
  store: Store
  log: Logger
  now: () => number
  nodeId: string
  /** This node stalled long enough for others to count it dead: its rows may be gone, rewrite them. */
  onStalled: () => void
}

/**
 * This node's row in `nodes`: removes what a crashed run with the same id left, heartbeats every
 * 5 s, purges nodes dead for 30 s, and removes itself on stop.
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
    }, NODE_HEARTBEAT_MS)
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
      const stalled = now - this.lastBeat >= NODE_DEAD_AFTER_MS
      await this.deps.store.heartbeatNode(this.deps.nodeId, this.startedAt, now)
      this.lastBeat = now
      if (stalled) {
        this.deps.log.warn({ event: 'node_stalled', node_id: this.deps.nodeId }, 'heartbeat was late; rewriting connection rows')
        this.deps.onStalled()
      }
      const purged = await this.deps.store.purgeDeadNodes(now - NODE_PURGE_AFTER_MS)
      if (purged.length > 0) this.deps.log.info({ event: 'nodes_purged', node_ids: purged }, 'removed dead nodes')
    } catch (err) {
      this.deps.log.error({ err, event: 'node_heartbeat_failed' }, 'could not heartbeat this node')
    }
  }
}
