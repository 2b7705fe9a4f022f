import type { RevokeReason } from '../store/types.js'

/**
 * Events every node must see: one process (LocalBus) or many (RedisBus). A union on `type`;
 * new event types are added here, and handlers ignore the types they do not know.
 */
export type BusEvent =
  /** `revokedAt` (epoch ms, absent from older senders) lets each node measure revocation-to-close latency. */
  | { type: 'sessions_revoked'; sessionIds: string[]; reason: RevokeReason; revokedAt?: number }
  /**
   * Server push from node `nodeId`: `data` for every live device of the user, on every node; `id`
   * names this push. Nodes that delivered it, and the nodes in `answerFrom` (those the origin
   * waits for), answer with `user_event_delivered`.
   */
  | { type: 'user_event'; id: string; nodeId: string; userId: string; data: unknown; answerFrom: string[] }
  /** Node `nodeId` handed the push `id` to `delivered` sockets. */
  | { type: 'user_event_delivered'; id: string; nodeId: string; delivered: number }
  /** A pair opened a socket on `nodeId`; under DUPLICATE_POLICY=replace other nodes close their older ones (4500). */
  | { type: 'session_connected'; nodeId: string; sessionId: string; connectionId: string; connectedAt: number }
  /** These users' devices changed on `nodeId`; nodes holding their sockets push a fresh `devices` frame. */
  | { type: 'devices_changed'; nodeId: string; userIds: string[] }
  /**
   * An operator acted outside any node (the CLI). The node `countOn` (one live node, chosen by the
   * sender, or null when none is live) counts it in its metrics, so sums across nodes stay exact.
   */
  | { type: 'operator_action'; action: string; via: 'cli'; countOn: string | null; revoked: { reason: RevokeReason; count: number } | null }

/** Publish/subscribe between the parts of one node, or between nodes. */
export interface Bus {
  /**
   * Delivers to this node's subscribers, then to the other nodes. Never rejects because another
   * node could not be reached (that is logged); local delivery always happens.
   */
  publish(event: BusEvent): Promise<void>
  /**
   * Whether the other nodes can be reached right now (RedisBus: its connections are up); absent
   * on a bus that never leaves this process (`/readyz` reports it as "off").
   */
  readonly connected?: boolean
  /** Returns the unsubscribe function. */
  subscribe(handler: (event: BusEvent) => void): () => void
  close(): Promise<void>
  /** Messages from other nodes dropped for arriving older than BUS_MAX_AGE_MS (always 0 in one process). */
  readonly staleDropped: number
}
