import type { DependencyStatus, Outage } from '../health/dependency-health.js'

/** Heartbeat periods (NODE_HEARTBEAT_MS) a node may miss before it counts as dead: its connections no longer count. */
export const DEAD_AFTER_HEARTBEATS = 3
/**
 * Heartbeat periods after which a silent node is purged with its connection rows. The purge runs on
 * every live node's beat, so a dead node's rows are gone at most 5 periods after its last beat
 * (25 s with the default 5 s), and they stop being listed after 3 (15 s).
 */
export const PURGE_AFTER_HEARTBEATS = 4

/** The oldest heartbeat a node may have at `now` and still count as live (no blind spell counted). */
export const liveNodesSince = (nodeHeartbeatMs: number, now: number) => now - DEAD_AFTER_HEARTBEATS * nodeHeartbeatMs

/**
 * The start of the latest stretch that ends at `now` and holds `windowMs` of time in which this
 * node could see the store: `now - windowMs`, moved back by every outage inside. Silence that
 * nobody could have seen (the store was down for everyone, or for us) never counts as death.
 */
export function seenWindowStart(now: number, windowMs: number, outages: readonly Outage[]): number {
  let cursor = now
  let left = windowMs
  for (let i = outages.length - 1; i >= 0; i--) {
    const { from, to } = outages[i]!
    const end = Math.min(to ?? now, now)
    if (end <= cursor - left) break
    left -= Math.max(0, cursor - end)
    cursor = Math.min(cursor, from)
  }
  return cursor - left
}

/** How this node tells live nodes from dead ones, its blind spells left out. */
export interface LivenessWindow {
  /** The oldest heartbeat that still counts as live at `now` (listings, counts, push). */
  liveSince(now: number): number
  /** Nodes whose heartbeat is older than this at `now` are purged with their rows. */
  purgeBefore(now: number): number
}

/**
 * The liveness window of a node: DEAD_AFTER_HEARTBEATS and PURGE_AFTER_HEARTBEATS periods of time
 * in which `store` was reachable from here. After an outage every node's heartbeat is old, its own
 * included; counted this way, none of them is dead or purged until each had the periods to beat again.
 */
export function createLivenessWindow(nodeHeartbeatMs: number, store: DependencyStatus): LivenessWindow {
  return {
    liveSince: (now) => seenWindowStart(now, DEAD_AFTER_HEARTBEATS * nodeHeartbeatMs, store.outages()),
    purgeBefore: (now) => seenWindowStart(now, PURGE_AFTER_HEARTBEATS * nodeHeartbeatMs, store.outages()),
  }
}
