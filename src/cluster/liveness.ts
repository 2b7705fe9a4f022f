/** Heartbeat periods (NODE_HEARTBEAT_MS) a node may miss before it counts as dead: its connections no longer count. */
export const DEAD_AFTER_HEARTBEATS = 3
/**
 * Heartbeat periods after which a silent node is purged with its connection rows. The purge runs on
 * every live node's beat, so a dead node's rows are gone at most 5 periods after its last beat
 * (25 s with the default 5 s), and they stop being listed after 3 (15 s).
 */
export const PURGE_AFTER_HEARTBEATS = 4

/** The oldest heartbeat a node may have at `now` and still count as live. */
export const liveNodesSince = (nodeHeartbeatMs: number, now: number) => now - DEAD_AFTER_HEARTBEATS * nodeHeartbeatMs
