import { z } from 'zod'
import type { AuditRow, ConnectionListing, NodeListing, SessionRow, SessionWithUsername, UserListing, UserRow } from './store/types.js'

/**
 * Public encoders: the only way rows become response bodies, so no column leaks by accident. Each
 * shape is a schema too: the encoder is typed by it, and `/openapi.json` describes it.
 */

const iso = (ms: number) => new Date(ms).toISOString()
const Time = z.string().describe('ISO 8601 UTC')

/** The "device" a user or operator sees. Never a token or a hash. */
export const SessionViewSchema = z.object({
  session_id: z.string(),
  device_name: z.string(),
  user_agent: z.string(),
  ip: z.string(),
  created_at: Time,
  last_seen_at: Time,
  expires_at: Time,
  online: z.boolean(),
  connections: z.number().int(),
})
export type SessionView = z.infer<typeof SessionViewSchema>

export function toSessionView(s: SessionRow, connections = 0): SessionView {
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

/** A session in the operators' listing: the view plus its owner and state. */
export const AdminSessionViewSchema = SessionViewSchema.extend({
  user_id: z.string(),
  username: z.string(),
  kind: z.enum(['user', 'backoffice']),
  state: z.enum(['active', 'revoked', 'expired']),
  revoked_at: Time.nullable(),
  revoked_reason: z.string().nullable(),
})
export type AdminSessionView = z.infer<typeof AdminSessionViewSchema>

export function toAdminSessionView(s: SessionWithUsername, connections: number, now: number): AdminSessionView {
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
export const DeviceViewSchema = z.object({
  connection_id: z.string(),
  session_id: z.string(),
  user_id: z.string(),
  username: z.string(),
  device_name: z.string(),
  ip: z.string(),
  user_agent: z.string(),
  connected_at: Time,
  node_id: z.string(),
})
export type DeviceView = z.infer<typeof DeviceViewSchema>

export function toDeviceView(c: ConnectionListing): DeviceView {
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
export const AdminUserViewSchema = z.object({
  user_id: z.string(),
  username: z.string(),
  email: z.string().nullable(),
  role: z.enum(['user', 'admin']),
  disabled: z.boolean(),
  created_at: Time,
})
export type AdminUserView = z.infer<typeof AdminUserViewSchema>

export function toAdminUserView(u: UserRow): AdminUserView {
  return {
    user_id: u.id,
    username: u.username,
    email: u.email,
    role: u.role,
    disabled: u.disabled,
    created_at: iso(u.createdAt),
  }
}

/** An account in the operators' accounts listing: its view, live sessions and whether one is connected. */
export const AdminUserListingSchema = AdminUserViewSchema.extend({
  sessions: z.number().int(),
  online: z.boolean(),
})

export function toAdminUserListing(u: UserListing): z.infer<typeof AdminUserListingSchema> {
  return { ...toAdminUserView(u), sessions: u.sessions, online: u.online }
}

/** One operator action on record. */
export const AuditEntrySchema = z.object({
  at: Time,
  actor: z.string(),
  via: z.enum(['http', 'service', 'cli']),
  action: z.string(),
  target: z.string(),
  node_id: z.string(),
})

export function toAuditEntry(e: AuditRow): z.infer<typeof AuditEntrySchema> {
  return { at: iso(e.at), actor: e.actor, via: e.via, action: e.action, target: e.target, node_id: e.nodeId }
}

/** A live gateway node and its connections. */
export const NodeViewSchema = z.object({
  node_id: z.string(),
  started_at: Time,
  heartbeat_at: Time,
  connections: z.number().int(),
})

export function toNodeView(n: NodeListing): z.infer<typeof NodeViewSchema> {
  return { node_id: n.id, started_at: iso(n.startedAt), heartbeat_at: iso(n.heartbeatAt), connections: n.connections }
}

/** Dialogram's session resource; the token is included only right after login. */
export const DialogramSessionSchema = z.object({ type: z.literal('session'), id: z.string(), token: z.string(), deviceName: z.string() })

export function toDialogramSession(s: SessionRow, token: string): z.infer<typeof DialogramSessionSchema> {
  return { type: 'session', id: s.id, token, deviceName: s.deviceName }
}

/** Dialogram's user resource. */
export const DialogramUserSchema = z.object({
  type: z.literal('user'),
  id: z.string(),
  nickName: z.string(),
  email: z.string().nullable(),
  profile: z.object({ firstName: z.string().nullable(), lastName: z.string().nullable() }),
})

export function toDialogramUser(u: UserRow): z.infer<typeof DialogramUserSchema> {
  return {
    type: 'user',
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
