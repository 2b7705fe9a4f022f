import type { Store } from '../store/types.js'
import { toSessionView, type SessionView } from '../views.js'

/** The user's live sessions as device views, with their connection counts on nodes with a heartbeat at or after `aliveSince`. */
export async function listUserDevices(store: Store, userId: string, now: number, aliveSince: number): Promise<SessionView[]> {
  const [sessions, counts] = await Promise.all([store.listActiveUserSessions(userId, now), store.countUserConnections(userId, aliveSince)])
  return sessions.map((s) => toSessionView(s, counts.get(s.id) ?? 0))
}
