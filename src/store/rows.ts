import type { AuditRow, ConnectionListing, NodeListing, RevokeReason, SessionRow, UserListing, UserRow } from './types.js'

/** A result row of either store, keyed by column name (snake_case, as in the schemas). */
export type Row = Record<string, unknown>

/** The user columns as a UserRow (SQLite stores `disabled` as 0/1, PostgreSQL as a boolean). */
export const userFromRow = (r: Row): UserRow => ({
  id: r.id as string,
  username: r.username as string,
  email: (r.email as string | null) ?? null,
  passwordHash: r.password_hash as string,
  role: r.role as UserRow['role'],
  disabled: r.disabled === 1 || r.disabled === true,
  firstName: (r.first_name as string | null) ?? null,
  lastName: (r.last_name as string | null) ?? null,
  createdAt: r.created_at as number,
})

/** The session columns as a SessionRow. */
export const sessionFromRow = (r: Row): SessionRow => ({
  id: r.id as string,
  userId: r.user_id as string,
  kind: r.kind as SessionRow['kind'],
  deviceName: r.device_name as string,
  userAgent: r.user_agent as string,
  ip: r.ip as string,
  createdAt: r.created_at as number,
  lastSeenAt: r.last_seen_at as number,
  expiresAt: r.expires_at as number,
  revokedAt: (r.revoked_at as number | null) ?? null,
  revokedReason: (r.revoked_reason as RevokeReason | null) ?? null,
})

/** A connection row joined with its user's name and its session's device name. */
export const connectionFromRow = (r: Row): ConnectionListing => ({
  id: r.id as string,
  sessionId: r.session_id as string,
  userId: r.user_id as string,
  nodeId: r.node_id as string,
  ip: r.ip as string,
  userAgent: r.user_agent as string,
  connectedAt: r.connected_at as number,
  username: r.username as string,
  deviceName: r.device_name as string,
})

/** A node row with its connection count (a bigint count in PostgreSQL, read as a number). */
export const nodeFromRow = (r: Row): NodeListing => ({
  id: r.id as string,
  startedAt: r.started_at as number,
  heartbeatAt: r.heartbeat_at as number,
  connections: Number(r.connections),
})

/** A user row with its live-session count and online flag (counts are bigint in PostgreSQL). */
export const userListingFromRow = (r: Row): UserListing => ({
  ...userFromRow(r),
  sessions: Number(r.live_sessions),
  online: Number(r.online) > 0 || r.online === true,
})

/** An audit_log row. */
export const auditFromRow = (r: Row): AuditRow => ({
  id: r.id as string,
  at: Number(r.at),
  actor: r.actor as string,
  via: r.via as AuditRow['via'],
  action: r.action as string,
  target: r.target as string,
  nodeId: r.node_id as string,
  countOn: (r.count_on as string | null) ?? null,
})

/** A LIKE pattern matching values that start with `prefix` (with `ESCAPE '\\'`). */
export const likePrefix = (prefix: string): string => `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`
