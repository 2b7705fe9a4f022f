import type { RevokeReason } from '../store/types.js'

/** Events every node must see: one process (LocalBus) or many (RedisBus). */
export type BusEvent = { type: 'sessions_revoked'; sessionIds: string[]; reason: RevokeReason }

/** Publish/subscribe between the parts of one node, or between nodes. */
export interface Bus {
  publish(event: BusEvent): Promise<void>
  /** Returns the unsubscribe function. */
  subscribe(handler: (event: BusEvent) => void): () => void
  close(): Promise<void>
}
