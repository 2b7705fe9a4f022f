import type { Store } from './store/types.js'
import { toSessionView, type SessionView } from './views.js'

/** A node whose heartbeat is older than this is dead: its connections no longer count. */
export const NODE_DEAD_AFTER_MS = 15_000

/** The user's live sessions as device views, with their connection counts on live nodes. */
export async function listUserDevices(store: Store, userId: string, now: number): Promise<SessionView[]> {
  const [sessions, counts] = await Promise.all([
    store.listActiveUserSessions(userId, now),
    store.countUserConnections(userId, now - NODE_DEAD_AFTER_MS),
  ])
  return sessions.map((s) => toSessionView(s, counts.get(s.id) ?? 0))
}
