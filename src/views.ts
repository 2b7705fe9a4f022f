import type { ConnectionListing, SessionRow, SessionWithUsername, UserRow } from './store/types.js'

/** Public encoders: the only way rows become response bodies, so no column leaks by accident. */

const iso = (ms: number) => new Date(ms).toISOString()

/** The "device" a user or operator sees. Never a token or a hash. */
export function toSessionView(s: SessionRow, connections = 0) {
  return {
    session_id: s.id,
    device_name: s.deviceName,
    user_agent: s.userAgent,
    ip: s.ip,
    created_at: iso(s.createdAt),
    last_seen_at: iso(s.lastSeenAt),
    expires_at: iso(s.expiresAt),
    online: connections > 0,
    connections,
  }
}
export type SessionView = ReturnType<typeof toSessionView>

/** A session in the operators' listing: the view plus its owner and state. */
export function toAdminSessionView(s: SessionWithUsername, connections: number, now: number) {
  return {
    ...toSessionView(s, connections),
    user_id: s.userId,
    username: s.username,
    kind: s.kind,
    state: s.revokedAt !== null ? 'revoked' : s.expiresAt <= now ? 'expired' : 'active',
    revoked_at: s.revokedAt === null ? null : iso(s.revokedAt),
    revoked_reason: s.revokedReason,
  }
}

/** A live connection in the operators' listing. */
export function toDeviceView(c: ConnectionListing) {
  return {
    connection_id: c.id,
    session_id: c.sessionId,
    user_id: c.userId,
    username: c.username,
    device_name: c.deviceName,
    ip: c.ip,
    user_agent: c.userAgent,
    connected_at: iso(c.connectedAt),
    node_id: c.nodeId,
  }
}

/** An account as operators see it (never its password hash). */
export function toAdminUserView(u: UserRow) {
  return {
    user_id: u.id,
    username: u.username,
    email: u.email,
    role: u.role,
    disabled: u.disabled,
    created_at: iso(u.createdAt),
  }
}

/** Dialogram's session resource; the token is included only right after login. */
export function toDialogramSession(s: SessionRow, token: string) {
  return { type: 'session' as const, id: s.id, token, deviceName: s.deviceName }
}

/** Dialogram's user resource. */
export function toDialogramUser(u: UserRow) {
  return {
    type: 'user' as const,
    id: u.id,
    nickName: u.username,
    email: u.email,
    profile: { firstName: u.firstName, lastName: u.lastName },
  }
}

/** Opaque pagination cursor for `next_cursor`. */
export function encodeCursor(c: { at: number; id: string } | null): string | null {
  return c ? Buffer.from(JSON.stringify([c.at, c.id])).toString('base64url') : null
}

/** Reads a `cursor` query value back; null when it is absent, undefined when it is not ours. */
export function decodeCursor(raw: string | null): { at: number; id: string } | null | undefined {
  if (raw === null || raw === '') return null
  try {
    const v: unknown = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'))
    if (Array.isArray(v) && v.length === 2 && Number.isSafeInteger(v[0]) && typeof v[1] === 'string' && v[1].length <= 64) {
      return { at: v[0] as number, id: v[1] }
    }
  } catch {
    // fall through: not a cursor we issued
  }
  return undefined
}
