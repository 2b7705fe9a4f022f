import { sessionFromRow, type Row } from './rows.js'
import { isSessionLive, type DeviceRecord, type SessionAuthRecord, type SessionWithDevices } from './types.js'

/** The statement's parameters, in PostgreSQL's order ($1, $2, $3). */
const PARAMS = ['tokenHash', 'now', 'aliveSince'] as const
type Param = (typeof PARAMS)[number]

/** SQLite binds the statement's parameters by name (`@now`): pass an object. */
export const sqliteParam = (name: Param) => `@${name}`
/** PostgreSQL binds them by position: pass [tokenHash, now, aliveSince]. */
export const postgresParam = (name: Param) => `$${PARAMS.indexOf(name) + 1}`

/**
 * The handshake's one statement, for both stores (`param` spells a parameter): the token's
 * session `t` with its user, joined to the user's sessions `s` that are live at `now` (plus `t`
 * itself whatever its state, so the caller can tell why it refuses), each with its connection count
 * on nodes alive since `aliveSince`. Indexes used:
 * sessions.token_hash, users.id, sessions_by_user (in order: no sort), connections_by_session,
 * nodes.id.
 */
export const sessionWithDevicesSql = (param: (name: Param) => string) => `
  SELECT s.id, s.user_id, s.kind, s.device_name, s.user_agent, s.ip, s.created_at, s.last_seen_at,
         s.expires_at, s.revoked_at, s.revoked_reason,
         t.id AS auth_session_id, t.token_hash AS auth_token_hash, u.username, u.role, u.disabled,
         (SELECT count(*) FROM connections c JOIN nodes n ON n.id = c.node_id
           WHERE c.session_id = s.id AND n.heartbeat_at >= ${param('aliveSince')}) AS connections
  FROM sessions t
  JOIN users u ON u.id = t.user_id
  JOIN sessions s ON s.user_id = t.user_id AND (s.id = t.id OR (s.revoked_at IS NULL AND s.expires_at > ${param('now')}))
  WHERE t.token_hash = ${param('tokenHash')}
  ORDER BY s.created_at DESC, s.id DESC`

/** The auth record of a row holding the session columns, `token_hash` and the user's auth columns. */
export const authRecordFromRow = (r: Row, tokenHash: Buffer): SessionAuthRecord => ({
  session: sessionFromRow(r),
  tokenHash,
  user: {
    id: r.user_id as string,
    username: r.username as string,
    role: r.role as SessionAuthRecord['user']['role'],
    disabled: r.disabled === 1 || r.disabled === true,
  },
})

/** The rows of sessionWithDevicesSql as one record; null when no session has the hash. */
export function sessionWithDevicesFromRows(rows: Row[], now: number): SessionWithDevices | null {
  let found: SessionAuthRecord | undefined
  const devices: DeviceRecord[] = []
  for (const r of rows) {
    // The token's row becomes the auth record; its session object doubles as the device entry.
    const record = r.id === r.auth_session_id ? authRecordFromRow(r, r.auth_token_hash as Buffer) : null
    if (record) found = record
    const session = record?.session ?? sessionFromRow(r)
    // The token's own row is joined whatever its state: only a live session is a device.
    if (isSessionLive(session, now)) devices.push({ session, connections: Number(r.connections) })
  }
  return found ? { ...found, devices } : null
}
