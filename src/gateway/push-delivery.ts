import type { Logger } from 'pino'
import { createId } from '../auth/tokens.js'
import type { BusEvent } from '../cluster/bus.js'
import type { EventDeliverer } from '../cluster/push.js'
import type { Store } from '../store/types.js'

/** How long a push waits for the other nodes holding the user's sockets to say how many got it. */
export const PUSH_ANSWER_WAIT_MS = 250

type UserEvent = Extract<BusEvent, { type: 'user_event' }>
type Delivered = Extract<BusEvent, { type: 'user_event_delivered' }>

export interface PushDeliveryDeps {
  nodeId: string
  store: Store
  log: Logger
  now: () => number
  /** The oldest heartbeat of a live node at `now`. */
  liveSince: (now: number) => number
  publish: (event: BusEvent) => Promise<void>
  /** Hands the frame to this node's sockets of the user; returns how many. */
  deliverLocal: (userId: string, data: unknown) => number
  answerWaitMs?: number
}

interface PendingPush {
  /** Nodes not heard from yet among those the connections table says hold the user's sockets. */
  awaiting: Set<string>
  /** Nodes that answered (each counts once). */
  answered: Set<string>
  /** Sockets reached so far, this node's included. */
  delivered: number
  finish: () => void
}

/**
 * Server push across nodes. The origin delivers to its own sockets, looks up (one query) which
 * other live nodes hold the user's connections, and publishes `user_event`; every node delivers
 * to its sockets and answers with `user_event_delivered` when it reached some or was asked to.
 * The origin sums the answers until every expected node answered or PUSH_ANSWER_WAIT_MS passed.
 */
export class PushDelivery implements EventDeliverer {
  private readonly pending = new Map<string, PendingPush>()

  constructor(private readonly deps: PushDeliveryDeps) {}

  async deliver(userId: string, data: unknown): Promise<number> {
    const { deps } = this
    const local = deps.deliverLocal(userId, data)
    const holders = await deps.store.listUserNodes(userId, deps.liveSince(deps.now()))
    const answerFrom = holders.filter((n) => n !== deps.nodeId)
    const id = createId()
    const push: PendingPush = { awaiting: new Set(answerFrom), answered: new Set(), delivered: local, finish: () => undefined }
    const finished = new Promise<void>((resolve) => (push.finish = resolve))
    this.pending.set(id, push)
    try {
      // Published even when no other node is expected: a socket opened elsewhere moments ago
      // (its row not written yet) still gets the event; its count may then arrive too late.
      await deps.publish({ type: 'user_event', id, nodeId: deps.nodeId, userId, data, answerFrom })
      if (push.awaiting.size > 0) await waitAtMost(finished, deps.answerWaitMs ?? PUSH_ANSWER_WAIT_MS)
    } finally {
      this.pending.delete(id)
    }
    if (push.awaiting.size > 0) {
      deps.log.debug({ event: 'push_unanswered', node_ids: [...push.awaiting] }, 'nodes did not report a push in time')
    }
    return push.delivered
  }

  /** Another node's push: delivers here and answers when asked or when a socket got it. */
  onUserEvent(event: UserEvent): void {
    const { deps } = this
    if (event.nodeId === deps.nodeId) return
    const delivered = deps.deliverLocal(event.userId, event.data)
    const asked = Array.isArray(event.answerFrom) && event.answerFrom.includes(deps.nodeId)
    if (delivered > 0 || asked) void deps.publish({ type: 'user_event_delivered', id: event.id, nodeId: deps.nodeId, delivered })
  }

  /** A node's answer to one of this node's pushes (answers to other nodes' pushes are ignored). */
  onDelivered(event: Delivered): void {
    const push = this.pending.get(event.id)
    if (!push || !Number.isSafeInteger(event.delivered) || event.delivered < 0) return
    if (push.answered.has(event.nodeId)) return // one answer per node: a repeat must not count twice
    push.answered.add(event.nodeId)
    push.awaiting.delete(event.nodeId)
    push.delivered += event.delivered
    if (push.awaiting.size === 0) push.finish()
  }

  /** Lets every waiting push answer now with what it has (shutdown). */
  stop(): void {
    for (const push of this.pending.values()) push.finish()
  }
}

function waitAtMost(promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}
