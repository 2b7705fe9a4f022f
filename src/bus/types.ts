import type { RevokeReason } from '../store/types.js'

/** Events every node must see: one process (LocalBus) or many (RedisBus). */
export type BusEvent =
  | { type: 'sessions_revoked'; sessionIds: string[]; reason: RevokeReason }
  /** A pair opened a socket on `nodeId`; under DUPLICATE_POLICY=replace other nodes close their older ones (4500). */
  | { type: 'session_connected'; nodeId: string; sessionId: string; connectionId: string; connectedAt: number }
  /** These users' devices changed on `nodeId`; nodes holding their sockets push a fresh `devices` frame. */
  | { type: 'devices_changed'; nodeId: string; userIds: string[] }

/** Publish/subscribe between the parts of one node, or between nodes. */
export interface Bus {
  publish(event: BusEvent): Promise<void>
  /** Returns the unsubscribe function. */
  subscribe(handler: (event: BusEvent) => void): () => void
  close(): Promise<void>
}
