import type pg from 'pg'
import { authRecordFromRow, postgresParam, sessionWithDevicesFromRows, sessionWithDevicesSql } from './handshake-read.js'
import { paginate } from './paginate.js'
import { auditFromRow, connectionFromRow, likePrefix, nodeFromRow, sessionFromRow, userFromRow, userListingFromRow, type Row } from './rows.js'
import { migratePostgres } from './postgres-migrate.js'
import { createPostgresPool, inTransaction, parsePostgresUrl, type PoolOptions, type PostgresTarget } from './postgres-pool.js'
import {
  ConflictError,
  LastAdminError,
  TOMBSTONE_KEEP_MS,
  type AuditRow,
  type ConnectionListing,
  type ConnectionRow,
  type ListOptions,
  type NewSession,
  type NewUser,
  type NodeListing,
  type SessionClaim,
  type Page,
  type PageCursor,
  type RevokeReason,
  type Role,
  type SessionAuthRecord,
  type SessionRow,
  type SessionWithDevices,
  type SessionListOptions,
  type SessionWithUsername,
  type Store,
  type UserListing,
  type UserListOptions,
  type UserRow,
} from './types.js'

/** A pool or one of its connections inside a transaction: both run queries. */
type Db = pg.Pool | pg.PoolClient

/** The unique constraints a caller can hit (named in schema.postgres.sql) and the field each guards. */
const conflictFields: Record<string, 'username' | 'email'> = {
  users_username_unique: 'username',
  users_email_unique: 'email',
}

/** Maps a unique violation on username/email to ConflictError; anything else passes through. */
function asConflict(e: unknown): unknown {
  const err = e as { code?: string; constraint?: string }
  const field = err.code === '23505' && err.constraint ? conflictFields[err.constraint] : undefined
  return field ? new ConflictError(field) : e
}

const SQL = {
  insertUser: `INSERT INTO users (id, username, email, password_hash, role, disabled, first_name, last_name, created_at, updated_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)`,
  insertSession: `INSERT INTO sessions (id, token_hash, user_id, kind, device_name, user_agent, ip, created_at, last_seen_at, expires_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
  sessionWithDevices: sessionWithDevicesSql(postgresParam),
  sessionByHash: `SELECT s.*, u.username, u.role, u.disabled FROM sessions s JOIN users u ON u.id = s.user_id
    WHERE s.token_hash = $1`,
  // Revokes the user's live sessions but one in a single statement: the ids it returns are exactly
  // the rows this call revoked, even when another node revokes at the same moment.
  revokeUserLive: `UPDATE sessions SET revoked_at = $1, revoked_reason = $2
    WHERE user_id = $3 AND revoked_at IS NULL AND expires_at > $1 AND ($4::text IS NULL OR id <> $4) RETURNING id`,
}

/** Opens the PostgreSQL store named by a `postgres://…[?schema=NAME]` URL, migrating its schema first. */
export async function openPostgresStore(url: string, options: PoolOptions = {}): Promise<PostgresStore> {
  const target = parsePostgresUrl(url)
  // Migrations run on their own connection with no query bound (they may wait for another node's).
  const migrationPool = createPostgresPool(target, { max: 1 })
  try {
    await migratePostgres(migrationPool, target.schema)
  } catch (e) {
    throw describeOpenError(e, target)
  } finally {
    await migrationPool.end().catch(() => undefined)
  }
  return new PostgresStore(createPostgresPool(target, options), target.schema)
}

/** A connection failure names the server (never the URL, which may hold a password). */
function describeOpenError(e: unknown, target: PostgresTarget): unknown {
  const code = (e as { code?: string }).code
  const unreachable = ['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ETIMEDOUT', 'ECONNRESET'].includes(code ?? '')
  if (!unreachable && !/timeout/i.test(String((e as Error).message))) return e
  const u = new URL(target.connectionString)
  return new Error(`PostgreSQL is not reachable at ${u.hostname || 'localhost'}:${u.port || 5432}${u.pathname}: ${(e as Error).message}`, {
    cause: e,
  })
}

/** The Store on `pg`: one pool, parameterised queries, one transaction per multi-statement write. */
export class PostgresStore implements Store {
  readonly kind = 'postgres' as const
  private closed = false

  constructor(
    private readonly pool: pg.Pool,
    /** The schema this store's tables live in. */
    readonly schema: string,
  ) {}

  async createUser(user: NewUser): Promise<void> {
    await this.insertUser(this.pool, user)
  }

  async createUserWithSession(user: NewUser, session: NewSession): Promise<void> {
    await inTransaction(this.pool, async (db) => {
      await this.insertUser(db, user)
      await this.insertSession(db, session)
    })
  }

  private async insertUser(db: Db, u: NewUser): Promise<void> {
    const args = [u.id, u.username, u.email, u.passwordHash, u.role, u.disabled ?? false, u.firstName, u.lastName, u.createdAt]
    try {
      await db.query(SQL.insertUser, args)
    } catch (e) {
      throw asConflict(e)
    }
  }

  private async insertSession(db: Db, s: NewSession): Promise<void> {
    await db.query(SQL.insertSession, [s.id, s.tokenHash, s.userId, s.kind, s.deviceName, s.userAgent, s.ip, s.createdAt, s.lastSeenAt, s.expiresAt])
  }

  async findUserById(id: string): Promise<UserRow | null> {
    return this.oneUser('SELECT * FROM users WHERE id = $1', id)
  }

  async findUserByUsername(username: string): Promise<UserRow | null> {
    return this.oneUser('SELECT * FROM users WHERE username = $1', username)
  }

  async findUserByEmail(email: string): Promise<UserRow | null> {
    return this.oneUser('SELECT * FROM users WHERE email = $1', email)
  }

  private async oneUser(sql: string, value: string): Promise<UserRow | null> {
    const { rows } = await this.pool.query(sql, [value])
    return rows[0] ? userFromRow(rows[0]) : null
  }

  async hasAdmin(): Promise<boolean> {
    const { rowCount } = await this.pool.query("SELECT 1 FROM users WHERE role = 'admin' LIMIT 1")
    return (rowCount ?? 0) > 0
  }

  async updatePassword(userId: string, passwordHash: string, keepSessionId: string | null, now: number): Promise<string[]> {
    return inTransaction(this.pool, async (db) => {
      await db.query('UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3', [passwordHash, now, userId])
      return revokeUserLive(db, userId, keepSessionId, 'password_changed', now)
    })
  }

  async setUserDisabled(userId: string, disabled: boolean, now: number): Promise<string[]> {
    return inTransaction(this.pool, async (db) => {
      if (disabled) await refuseLastAdmin(db, userId)
      await db.query('UPDATE users SET disabled = $1, updated_at = $2 WHERE id = $3', [disabled, now, userId])
      return disabled ? revokeUserLive(db, userId, null, 'account_disabled', now) : []
    })
  }

  async setUserRole(userId: string, role: Role, now: number): Promise<void> {
    await inTransaction(this.pool, async (db) => {
      if (role !== 'admin') await refuseLastAdmin(db, userId)
      await db.query('UPDATE users SET role = $1, updated_at = $2 WHERE id = $3', [role, now, userId])
    })
  }

  async deleteUser(userId: string, now: number): Promise<string[]> {
    return inTransaction(this.pool, async (db) => {
      await refuseLastAdmin(db, userId)
      // The user's row is locked first: a login or revocation racing the delete waits for it.
      const user = await db.query('SELECT id FROM users WHERE id = $1 FOR UPDATE', [userId])
      if (user.rowCount === 0) return []
      const { rows } = await db.query<{ id: string }>('SELECT id FROM sessions WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 ORDER BY id', [
        userId,
        now,
      ])
      const live = rows.map((r) => r.id)
      if (live.length > 0) {
        await db.query(
          `INSERT INTO deleted_sessions (id, deleted_at) SELECT unnest($1::text[]), $2
           ON CONFLICT (id) DO UPDATE SET deleted_at = excluded.deleted_at`,
          [live, now],
        )
      }
      await db.query('DELETE FROM deleted_sessions WHERE deleted_at < $1', [now - TOMBSTONE_KEEP_MS])
      await db.query('DELETE FROM users WHERE id = $1', [userId])
      return live
    })
  }

  async listUsers({ q, role, disabled, limit, cursor, now, aliveSince }: UserListOptions): Promise<Page<UserListing>> {
    const args: unknown[] = []
    const arg = (v: unknown) => `$${args.push(v)}`
    const where: string[] = []
    if (q !== undefined) {
      const pattern = arg(likePrefix(q))
      where.push(`(u.username LIKE ${pattern} ESCAPE '\\' OR u.email LIKE ${pattern} ESCAPE '\\')`)
    }
    if (role !== undefined) where.push(`u.role = ${arg(role)}`)
    if (disabled !== undefined) where.push(`u.disabled = ${arg(disabled)}`)
    if (cursor) where.push(`(u.created_at, u.id) < (${arg(cursor.at)}, ${arg(cursor.id)})`)
    const sql = `SELECT u.*,
        (SELECT count(*) FROM sessions s WHERE s.user_id = u.id AND s.revoked_at IS NULL AND s.expires_at > ${arg(now)}) AS live_sessions,
        EXISTS (SELECT 1 FROM connections c JOIN nodes n ON n.id = c.node_id WHERE c.user_id = u.id AND n.heartbeat_at >= ${arg(aliveSince)}) AS online
      FROM users u ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY u.created_at DESC, u.id DESC LIMIT ${arg(limit + 1)}`
    const { rows } = await this.pool.query(sql, args)
    return paginate(rows.map(userListingFromRow), limit, (r) => r.createdAt)
  }

  async recordAudit(e: AuditRow): Promise<void> {
    await this.pool.query('INSERT INTO audit_log (id, at, actor, via, action, target, node_id, count_on) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)', [
      e.id,
      e.at,
      e.actor,
      e.via,
      e.action,
      e.target,
      e.nodeId,
      e.countOn,
    ])
  }

  async listAudit({ limit, cursor }: { limit: number; cursor?: PageCursor }): Promise<Page<AuditRow>> {
    const { rows } = cursor
      ? await this.pool.query('SELECT * FROM audit_log WHERE (at, id) < ($1, $2) ORDER BY at DESC, id DESC LIMIT $3', [cursor.at, cursor.id, limit + 1])
      : await this.pool.query('SELECT * FROM audit_log ORDER BY at DESC, id DESC LIMIT $1', [limit + 1])
    return paginate(rows.map(auditFromRow), limit, (r) => r.at)
  }

  async listAuditSince(since: number, limit: number): Promise<AuditRow[]> {
    const { rows } = await this.pool.query('SELECT * FROM audit_log WHERE at >= $1 ORDER BY at, id LIMIT $2', [since, limit])
    return rows.map(auditFromRow)
  }

  async createSession(session: NewSession): Promise<void> {
    await this.insertSession(this.pool, session)
  }

  async findSessionByTokenHash(tokenHash: Buffer): Promise<SessionAuthRecord | null> {
    // Named: prepared once per pooled connection, then only executed (the handshake's hot path).
    const { rows } = await this.pool.query({ name: 'chatgate_session_by_hash', text: SQL.sessionByHash, values: [tokenHash] })
    const r = rows[0] as Row | undefined
    return r ? authRecordFromRow(r, r.token_hash as Buffer) : null
  }

  async findSessionWithDevices(tokenHash: Buffer, now: number, aliveSince: number): Promise<SessionWithDevices | null> {
    const { rows } = await this.pool.query({
      name: 'chatgate_session_with_devices',
      text: SQL.sessionWithDevices,
      values: [tokenHash, now, aliveSince],
    })
    return sessionWithDevicesFromRows(rows as Row[], now)
  }

  async findSessionById(id: string): Promise<SessionWithUsername | null> {
    const { rows } = await this.pool.query('SELECT s.*, u.username FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = $1', [id])
    const r = rows[0] as Row | undefined
    return r ? { ...sessionFromRow(r), username: r.username as string } : null
  }

  async touchSessions(touches: { id: string; lastSeenAt: number; expiresAt: number }[]): Promise<void> {
    if (touches.length === 0) return
    await this.pool.query(
      `UPDATE sessions s SET last_seen_at = t.last_seen_at, expires_at = t.expires_at
       FROM unnest($1::text[], $2::bigint[], $3::bigint[]) AS t(id, last_seen_at, expires_at)
       WHERE s.id = t.id AND s.revoked_at IS NULL`,
      [touches.map((t) => t.id), touches.map((t) => t.lastSeenAt), touches.map((t) => t.expiresAt)],
    )
  }

  async listActiveUserSessions(userId: string, now: number): Promise<SessionRow[]> {
    const { rows } = await this.pool.query(
      `SELECT * FROM sessions WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 ORDER BY created_at DESC, id DESC`,
      [userId, now],
    )
    return rows.map(sessionFromRow)
  }

  async revokeSessions(ids: string[], reason: RevokeReason, now: number): Promise<string[]> {
    if (ids.length === 0) return []
    const { rows } = await this.pool.query<{ id: string }>(
      'UPDATE sessions SET revoked_at = $1, revoked_reason = $2 WHERE id = ANY($3::text[]) AND revoked_at IS NULL RETURNING id',
      [now, reason, ids],
    )
    // In the caller's order, each once (as the SQLite store answers).
    const hit = new Set(rows.map((r) => r.id))
    return ids.filter((id) => hit.delete(id))
  }

  async revokeUserSessions(userId: string, exceptId: string | null, reason: RevokeReason, now: number): Promise<string[]> {
    return revokeUserLive(this.pool, userId, exceptId, reason, now)
  }

  async listSessions({ username, limit, cursor, activeAt }: SessionListOptions): Promise<Page<SessionWithUsername>> {
    const where: string[] = []
    const args: unknown[] = []
    const arg = (v: unknown) => `$${args.push(v)}`
    if (username !== undefined) where.push(`u.username = ${arg(username)}`)
    if (activeAt !== undefined) where.push(`s.revoked_at IS NULL AND s.expires_at > ${arg(activeAt)}`)
    if (cursor) where.push(`(s.created_at, s.id) < (${arg(cursor.at)}, ${arg(cursor.id)})`)
    const sql = `SELECT s.*, u.username FROM sessions s JOIN users u ON u.id = s.user_id
      ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY s.created_at DESC, s.id DESC LIMIT ${arg(limit + 1)}`
    const { rows } = await this.pool.query(sql, args)
    return paginate(
      rows.map((r) => ({ ...sessionFromRow(r), username: r.username as string })),
      limit,
      (r) => r.createdAt,
    )
  }

  async listRevokedSince(since: number): Promise<{ id: string; revokedAt: number; reason: RevokeReason | null }[]> {
    const { rows } = await this.pool.query(
      `SELECT id, revoked_at, revoked_reason FROM sessions WHERE revoked_at >= $1
       UNION ALL SELECT id, deleted_at, 'account_deleted' FROM deleted_sessions WHERE deleted_at >= $1
       ORDER BY revoked_at, id`,
      [since],
    )
    return rows.map((r) => ({ id: r.id, revokedAt: r.revoked_at, reason: r.revoked_reason ?? null }))
  }

  /** PostgreSQL cannot cheaply tell that another node wrote: callers poll listRevokedSince. */
  async externalChangeCounter(): Promise<number | null> {
    return null
  }

  async applyConnectionChanges(opened: ConnectionRow[], closedIds: string[]): Promise<void> {
    if (opened.length === 0 && closedIds.length === 0) return
    // One row per id, the last one winning (INSERT OR REPLACE in SQLite); ON CONFLICT may touch a row once.
    const rows = [...new Map(opened.map((c) => [c.id, c])).values()]
    await inTransaction(this.pool, async (db) => {
      if (rows.length > 0) {
        await db.query(
          `INSERT INTO connections (id, session_id, user_id, node_id, ip, user_agent, connected_at)
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[])
           ON CONFLICT (id) DO UPDATE SET session_id = excluded.session_id, user_id = excluded.user_id,
             node_id = excluded.node_id, ip = excluded.ip, user_agent = excluded.user_agent, connected_at = excluded.connected_at`,
          [
            rows.map((c) => c.id),
            rows.map((c) => c.sessionId),
            rows.map((c) => c.userId),
            rows.map((c) => c.nodeId),
            rows.map((c) => c.ip),
            rows.map((c) => c.userAgent),
            rows.map((c) => c.connectedAt),
          ],
        )
      }
      if (closedIds.length > 0) await db.query('DELETE FROM connections WHERE id = ANY($1::text[])', [closedIds])
    })
  }

  async listConnections({ username, limit, cursor, aliveSince }: ListOptions & { aliveSince: number }): Promise<Page<ConnectionListing>> {
    const args: unknown[] = []
    const arg = (v: unknown) => `$${args.push(v)}`
    const where = [`n.heartbeat_at >= ${arg(aliveSince)}`]
    if (username !== undefined) where.push(`u.username = ${arg(username)}`)
    if (cursor) where.push(`(c.connected_at, c.id) < (${arg(cursor.at)}, ${arg(cursor.id)})`)
    const sql = `SELECT c.*, u.username, s.device_name FROM connections c
      JOIN nodes n ON n.id = c.node_id JOIN users u ON u.id = c.user_id JOIN sessions s ON s.id = c.session_id
      WHERE ${where.join(' AND ')} ORDER BY c.connected_at DESC, c.id DESC LIMIT ${arg(limit + 1)}`
    const { rows } = await this.pool.query(sql, args)
    return paginate(rows.map(connectionFromRow), limit, (r) => r.connectedAt)
  }

  async countUserConnections(userId: string, aliveSince: number): Promise<Map<string, number>> {
    const { rows } = await this.pool.query<{ session_id: string; n: number }>(
      `SELECT c.session_id, count(*) AS n FROM connections c JOIN nodes n ON n.id = c.node_id
       WHERE c.user_id = $1 AND n.heartbeat_at >= $2 GROUP BY c.session_id`,
      [userId, aliveSince],
    )
    return new Map(rows.map((r) => [r.session_id, r.n]))
  }

  async listUserNodes(userId: string, aliveSince: number): Promise<string[]> {
    const { rows } = await this.pool.query<{ node_id: string }>(
      `SELECT DISTINCT c.node_id FROM connections c JOIN nodes n ON n.id = c.node_id
       WHERE c.user_id = $1 AND n.heartbeat_at >= $2 ORDER BY c.node_id`,
      [userId, aliveSince],
    )
    return rows.map((r) => r.node_id)
  }

  async listNodes(aliveSince: number): Promise<NodeListing[]> {
    const { rows } = await this.pool.query(
      `SELECT n.id, n.started_at, n.heartbeat_at, (SELECT count(*) FROM connections c WHERE c.node_id = n.id) AS connections
       FROM nodes n WHERE n.heartbeat_at >= $1 ORDER BY n.id`,
      [aliveSince],
    )
    return rows.map(nodeFromRow)
  }

  async heartbeatNode(nodeId: string, startedAt: number, now: number): Promise<void> {
    await this.pool.query(
      `INSERT INTO nodes (id, started_at, heartbeat_at) VALUES ($1, $2, $3)
       ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at`,
      [nodeId, startedAt, now],
    )
  }

  async claimSession(claim: SessionClaim, aliveSince: number): Promise<boolean> {
    // One statement: INSERT … ON CONFLICT locks the claim row, so of two nodes claiming at once the
    // second waits, then re-checks the holder's node against the committed row and is refused.
    const { rowCount } = await this.pool.query(
      `INSERT INTO session_claims (session_id, node_id, connection_id, claimed_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (session_id) DO UPDATE SET node_id = excluded.node_id, connection_id = excluded.connection_id, claimed_at = excluded.claimed_at
       WHERE NOT EXISTS (SELECT 1 FROM nodes n WHERE n.id = session_claims.node_id AND n.heartbeat_at >= $5)`,
      [claim.sessionId, claim.nodeId, claim.connectionId, claim.claimedAt, aliveSince],
    )
    return rowCount === 1
  }

  async releaseSessionClaim(sessionId: string, connectionId: string): Promise<void> {
    await this.pool.query('DELETE FROM session_claims WHERE session_id = $1 AND connection_id = $2', [sessionId, connectionId])
  }

  async removeNode(nodeId: string): Promise<void> {
    await inTransaction(this.pool, async (db) => {
      await db.query('DELETE FROM session_claims WHERE node_id = $1', [nodeId])
      await db.query('DELETE FROM connections WHERE node_id = $1', [nodeId])
      await db.query('DELETE FROM nodes WHERE id = $1', [nodeId])
    })
  }

  async purgeDeadNodes(deadBefore: number): Promise<string[]> {
    return inTransaction(this.pool, async (db) => {
      const { rows } = await db.query<{ id: string }>('DELETE FROM nodes WHERE heartbeat_at < $1 RETURNING id', [deadBefore])
      // The dead nodes' connections and any row whose node is gone (as the SQLite store does).
      await db.query('DELETE FROM connections c WHERE NOT EXISTS (SELECT 1 FROM nodes n WHERE n.id = c.node_id)')
      await db.query('DELETE FROM session_claims c WHERE NOT EXISTS (SELECT 1 FROM nodes n WHERE n.id = c.node_id)')
      return rows.map((r) => r.id).sort()
    })
  }

  /** Ends the pool; idempotent. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.pool.end()
  }
}

/**
 * Inside a transaction: throws LastAdminError when `userId` is the only enabled admin. The enabled
 * admins' rows are locked first, so two transactions disabling the last two admins at once
 * serialise here and the second sees the first's change.
 */
async function refuseLastAdmin(db: Db, userId: string): Promise<void> {
  const { rows } = await db.query<{ id: string }>("SELECT id FROM users WHERE role = 'admin' AND NOT disabled ORDER BY id FOR UPDATE")
  if (rows.some((r) => r.id === userId) && rows.length === 1) throw new LastAdminError()
}

function revokeUserLive(db: Db, userId: string, exceptId: string | null, reason: RevokeReason, now: number): Promise<string[]> {
  return db.query<{ id: string }>(SQL.revokeUserLive, [now, reason, userId, exceptId]).then((r) => r.rows.map((x) => x.id))
}
