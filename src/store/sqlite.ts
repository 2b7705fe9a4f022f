import Database from 'better-sqlite3'
import { mkdirSync, readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { authRecordFromRow, sessionWithDevicesFromRows, sessionWithDevicesSql, sqliteParam } from './handshake-read.js'
import { paginate } from './paginate.js'
import { auditFromRow, connectionFromRow, likePrefix, nodeFromRow, sessionFromRow, userFromRow, userListingFromRow, type Row } from './rows.js'
import { SqliteCheckpointer, FALLBACK_AUTOCHECKPOINT_PAGES } from './sqlite-checkpointer.js'
import { restrictDatabaseFiles } from './sqlite-files.js'
import { applyReadPragmas, SQLITE_CACHE_MB, SQLITE_MMAP_MB } from './sqlite-pragmas.js'
import { SqliteLockWaiter } from './sqlite-lock-waiter.js'
import { migrations, SCHEMA_VERSION } from './sqlite-migrations.js'
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

const schemaFile = resolve(dirname(fileURLToPath(import.meta.url)), '../../schema.sql')

/**
 * SQLite's own busy timeout, while opening only: nothing is served yet, and the schema step must
 * not fail because another process is writing. Once open, calls wait in SqliteLockWaiter instead.
 */
const OPEN_BUSY_TIMEOUT_MS = 5_000

export interface SqliteStoreOptions {
  /** How long a call waits for another process's write lock before StoreUnavailableError (SQLITE_LOCK_WAIT_MS). */
  lockWaitMs?: number
  /** Page cache, MiB (SQLITE_CACHE_MB). */
  cacheMb?: number
  /** Memory-mapped reads, MiB (SQLITE_MMAP_MB; 0 = off). */
  mmapMb?: number
}

/** Opens (creating file, folder and schema as needed) the embedded SQLite store. */
export function openSqliteStore(path: string, options: SqliteStoreOptions = {}): SqliteStore {
  const inMemory = path === ':memory:'
  if (!inMemory) {
    mkdirSync(dirname(resolve(path)), { recursive: true })
    restrictDatabaseFiles(path)
  }
  const db = new Database(path)
  db.pragma(`busy_timeout = ${OPEN_BUSY_TIMEOUT_MS}`)
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = NORMAL')
  db.pragma('foreign_keys = ON')
  applyReadPragmas(db, { cacheMb: options.cacheMb ?? SQLITE_CACHE_MB, mmapMb: inMemory ? 0 : (options.mmapMb ?? SQLITE_MMAP_MB) })
  migrate(db)
  // From here on a locked file answers SQLITE_BUSY at once: the event loop never waits on a lock.
  db.pragma('busy_timeout = 0')
  const lock = new SqliteLockWaiter({ maxWaitMs: options.lockWaitMs })
  if (inMemory) return new SqliteStore(db, lock)
  db.pragma(`wal_autocheckpoint = ${FALLBACK_AUTOCHECKPOINT_PAGES}`)
  return new SqliteStore(db, lock, new SqliteCheckpointer(path))
}

/** Brings the file to SCHEMA_VERSION: the whole schema on a new file, then each migration in order. */
function migrate(db: Database.Database): void {
  const apply = db.transaction(() => {
    let version = db.pragma('user_version', { simple: true }) as number
    if (version === 0) {
      db.exec(readFileSync(schemaFile, 'utf8'))
      version = 1
    }
    if (version > SCHEMA_VERSION) {
      throw new Error(`database schema version ${version} is newer than this chatgate (${SCHEMA_VERSION})`)
    }
    for (const m of migrations.filter((m) => m.to > version)) {
      db.exec(m.sql)
      version = m.to
    }
    db.pragma(`user_version = ${version}`)
  })
  apply.immediate()
}

const isUniqueViolation = (e: unknown): e is Error & { code: string } => e instanceof Error && (e as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE'

const conflictField = (e: Error): 'username' | 'email' => (e.message.includes('users.email') ? 'email' : 'username')

/**
 * The Store on better-sqlite3: prepared statements, WAL, one transaction per multi-row write.
 * Every call goes through `lock`, so a file locked by another process never blocks the event loop.
 */
export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const
  private readonly s

  constructor(
    private readonly db: Database.Database,
    /** Runs each call, waiting off the event loop while another process holds the file's lock. */
    private readonly lock: SqliteLockWaiter,
    /** Runs WAL checkpoints on a worker thread (absent for :memory:). */
    private readonly checkpointer?: SqliteCheckpointer,
  ) {
    const p = (sql: string) => db.prepare(sql)
    this.s = {
      insertUser: p(`INSERT INTO users (id, username, email, password_hash, role, disabled, first_name, last_name, created_at, updated_at)
        VALUES (@id, @username, @email, @passwordHash, @role, @disabled, @firstName, @lastName, @createdAt, @createdAt)`),
      userById: p('SELECT * FROM users WHERE id = ?'),
      userByUsername: p('SELECT * FROM users WHERE username = ?'),
      userByEmail: p('SELECT * FROM users WHERE email = ?'),
      hasAdmin: p("SELECT 1 FROM users WHERE role = 'admin' LIMIT 1").pluck(),
      setPassword: p('UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?'),
      setDisabled: p('UPDATE users SET disabled = ?, updated_at = ? WHERE id = ?'),
      setRole: p('UPDATE users SET role = ?, updated_at = ? WHERE id = ?'),
      deleteUser: p('DELETE FROM users WHERE id = ?'),
      insertTombstone: p('INSERT OR REPLACE INTO deleted_sessions (id, deleted_at) VALUES (?, ?)'),
      pruneTombstones: p('DELETE FROM deleted_sessions WHERE deleted_at < ?'),
      insertAudit: p(`INSERT INTO audit_log (id, at, actor, via, action, target, node_id, count_on)
        VALUES (@id, @at, @actor, @via, @action, @target, @nodeId, @countOn)`),
      auditSince: p('SELECT * FROM audit_log WHERE at >= ? ORDER BY at, id LIMIT ?'),
      isEnabledAdmin: p("SELECT 1 FROM users WHERE id = ? AND role = 'admin' AND disabled = 0").pluck(),
      otherEnabledAdmins: p("SELECT count(*) FROM users WHERE role = 'admin' AND disabled = 0 AND id <> ?").pluck(),
      insertSession: p(`INSERT INTO sessions (id, token_hash, user_id, kind, device_name, user_agent, ip, created_at, last_seen_at, expires_at)
        VALUES (@id, @tokenHash, @userId, @kind, @deviceName, @userAgent, @ip, @createdAt, @lastSeenAt, @expiresAt)`),
      sessionByHash: p(`SELECT s.*, u.username, u.role, u.disabled FROM sessions s JOIN users u ON u.id = s.user_id
        WHERE s.token_hash = ?`),
      sessionWithDevices: p(sessionWithDevicesSql(sqliteParam)),
      sessionById: p('SELECT s.*, u.username FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = ?'),
      touch: p('UPDATE sessions SET last_seen_at = ?, expires_at = ? WHERE id = ? AND revoked_at IS NULL'),
      activeUserSessions: p(`SELECT * FROM sessions WHERE user_id = ? AND revoked_at IS NULL AND expires_at > ?
        ORDER BY created_at DESC, id DESC`),
      revokeOne: p(`UPDATE sessions SET revoked_at = ?, revoked_reason = ? WHERE id = ? AND revoked_at IS NULL`),
      liveUserSessionIds: p('SELECT id FROM sessions WHERE user_id = ? AND revoked_at IS NULL AND expires_at > ?').pluck(),
      revokedSince: p(`SELECT id, revoked_at, revoked_reason FROM sessions WHERE revoked_at >= ?
        UNION ALL SELECT id, deleted_at AS revoked_at, 'account_deleted' AS revoked_reason FROM deleted_sessions WHERE deleted_at >= ?
        ORDER BY revoked_at`),
      insertConnection: p(`INSERT OR REPLACE INTO connections (id, session_id, user_id, node_id, ip, user_agent, connected_at)
        VALUES (@id, @sessionId, @userId, @nodeId, @ip, @userAgent, @connectedAt)`),
      deleteConnection: p('DELETE FROM connections WHERE id = ?'),
      countUserConnections: p(`SELECT c.session_id, count(*) AS n FROM connections c JOIN nodes n ON n.id = c.node_id
        WHERE c.user_id = ? AND n.heartbeat_at >= ? GROUP BY c.session_id`),
      userNodes: p(`SELECT DISTINCT c.node_id FROM connections c JOIN nodes n ON n.id = c.node_id
        WHERE c.user_id = ? AND n.heartbeat_at >= ? ORDER BY c.node_id`).pluck(),
      heartbeat: p(`INSERT INTO nodes (id, started_at, heartbeat_at) VALUES (?, ?, ?)
        ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at`),
      deleteNodeConnections: p('DELETE FROM connections WHERE node_id = ?'),
      // One statement: the claim is taken when free or held by a node that is not live.
      claimSession: p(`INSERT INTO session_claims (session_id, node_id, connection_id, claimed_at) VALUES (@sessionId, @nodeId, @connectionId, @claimedAt)
        ON CONFLICT (session_id) DO UPDATE SET node_id = excluded.node_id, connection_id = excluded.connection_id, claimed_at = excluded.claimed_at
        WHERE NOT EXISTS (SELECT 1 FROM nodes n WHERE n.id = session_claims.node_id AND n.heartbeat_at >= @aliveSince)`),
      releaseClaim: p('DELETE FROM session_claims WHERE session_id = ? AND connection_id = ?'),
      deleteNodeClaims: p('DELETE FROM session_claims WHERE node_id = ?'),
      orphanClaims: p('DELETE FROM session_claims WHERE node_id NOT IN (SELECT id FROM nodes)'),
      deleteNode: p('DELETE FROM nodes WHERE id = ?'),
      liveNodes: p(`SELECT n.id, n.started_at, n.heartbeat_at, (SELECT count(*) FROM connections c WHERE c.node_id = n.id) AS connections
        FROM nodes n WHERE n.heartbeat_at >= ? ORDER BY n.id`),
      deadNodes: p('SELECT id FROM nodes WHERE heartbeat_at < ?').pluck(),
      orphanConnections: p('DELETE FROM connections WHERE node_id NOT IN (SELECT id FROM nodes)'),
    }
  }

  async createUser(user: NewUser): Promise<void> {
    return this.lock.write(() => this.insertUser(user))
  }

  async createUserWithSession(user: NewUser, session: NewSession): Promise<void> {
    return this.lock.write(() =>
      this.db
        .transaction(() => {
          this.insertUser(user)
          this.s.insertSession.run(session)
        })
        .immediate(),
    )
  }

  private insertUser(user: NewUser): void {
    try {
      this.s.insertUser.run({ ...user, disabled: user.disabled ? 1 : 0 })
    } catch (e) {
      if (isUniqueViolation(e)) throw new ConflictError(conflictField(e))
      throw e
    }
  }

  async findUserById(id: string): Promise<UserRow | null> {
    return this.lock.read(() => {
      const r = this.s.userById.get(id) as Row | undefined
      return r ? userFromRow(r) : null
    })
  }

  async findUserByUsername(username: string): Promise<UserRow | null> {
    return this.lock.read(() => {
      const r = this.s.userByUsername.get(username) as Row | undefined
      return r ? userFromRow(r) : null
    })
  }

  async findUserByEmail(email: string): Promise<UserRow | null> {
    return this.lock.read(() => {
      const r = this.s.userByEmail.get(email) as Row | undefined
      return r ? userFromRow(r) : null
    })
  }

  async hasAdmin(): Promise<boolean> {
    return this.lock.read(() => this.s.hasAdmin.get() !== undefined)
  }

  async updatePassword(userId: string, passwordHash: string, keepSessionId: string | null, now: number): Promise<string[]> {
    return this.lock.write(() =>
      this.db
        .transaction(() => {
          this.s.setPassword.run(passwordHash, now, userId)
          return this.revokeUserSessionsSync(userId, keepSessionId, 'password_changed', now)
        })
        .immediate(),
    )
  }

  async setUserDisabled(userId: string, disabled: boolean, now: number): Promise<string[]> {
    return this.lock.write(() =>
      this.db
        .transaction(() => {
          if (disabled) this.refuseLastAdmin(userId)
          this.s.setDisabled.run(disabled ? 1 : 0, now, userId)
          return disabled ? this.revokeUserSessionsSync(userId, null, 'account_disabled', now) : []
        })
        .immediate(),
    )
  }

  async setUserRole(userId: string, role: Role, now: number): Promise<void> {
    return this.lock.write(() =>
      this.db
        .transaction(() => {
          if (role !== 'admin') this.refuseLastAdmin(userId)
          this.s.setRole.run(role, now, userId)
        })
        .immediate(),
    )
  }

  async deleteUser(userId: string, now: number): Promise<string[]> {
    return this.lock.write(() =>
      this.db
        .transaction(() => {
          this.refuseLastAdmin(userId)
          const live = this.s.liveUserSessionIds.all(userId, now) as string[]
          for (const id of live) this.s.insertTombstone.run(id, now)
          this.s.pruneTombstones.run(now - TOMBSTONE_KEEP_MS)
          this.s.deleteUser.run(userId)
          return live
        })
        .immediate(),
    )
  }

  async listUsers({ q, role, disabled, limit, cursor, now, aliveSince }: UserListOptions): Promise<Page<UserListing>> {
    const where: string[] = []
    const args: unknown[] = [now, aliveSince]
    if (q !== undefined) {
      where.push("(u.username LIKE ? ESCAPE '\\' OR u.email LIKE ? ESCAPE '\\')")
      args.push(likePrefix(q), likePrefix(q))
    }
    if (role !== undefined) {
      where.push('u.role = ?')
      args.push(role)
    }
    if (disabled !== undefined) {
      where.push('u.disabled = ?')
      args.push(disabled ? 1 : 0)
    }
    if (cursor) {
      where.push('(u.created_at < ? OR (u.created_at = ? AND u.id < ?))')
      args.push(cursor.at, cursor.at, cursor.id)
    }
    const sql = `SELECT u.*,
        (SELECT count(*) FROM sessions s WHERE s.user_id = u.id AND s.revoked_at IS NULL AND s.expires_at > ?) AS live_sessions,
        EXISTS (SELECT 1 FROM connections c JOIN nodes n ON n.id = c.node_id WHERE c.user_id = u.id AND n.heartbeat_at >= ?) AS online
      FROM users u ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY u.created_at DESC, u.id DESC LIMIT ?`
    const rows = await this.lock.read(() => (this.db.prepare(sql).all(...args, limit + 1) as Row[]).map(userListingFromRow))
    return paginate(rows, limit, (r) => r.createdAt)
  }

  async recordAudit(entry: AuditRow): Promise<void> {
    return this.lock.write(() => void this.s.insertAudit.run(entry))
  }

  async listAudit({ limit, cursor }: { limit: number; cursor?: PageCursor }): Promise<Page<AuditRow>> {
    const where = cursor ? 'WHERE (at < ? OR (at = ? AND id < ?))' : ''
    const args = cursor ? [cursor.at, cursor.at, cursor.id] : []
    const sql = `SELECT * FROM audit_log ${where} ORDER BY at DESC, id DESC LIMIT ?`
    const rows = await this.lock.read(() => (this.db.prepare(sql).all(...args, limit + 1) as Row[]).map(auditFromRow))
    return paginate(rows, limit, (r) => r.at)
  }

  async listAuditSince(since: number, limit: number): Promise<AuditRow[]> {
    return this.lock.read(() => (this.s.auditSince.all(since, limit) as Row[]).map(auditFromRow))
  }

  /** Inside a write transaction: throws LastAdminError when `userId` is the only enabled admin. */
  private refuseLastAdmin(userId: string): void {
    if (this.s.isEnabledAdmin.get(userId) !== undefined && (this.s.otherEnabledAdmins.get(userId) as number) === 0) throw new LastAdminError()
  }

  async createSession(session: NewSession): Promise<void> {
    return this.lock.write(() => void this.s.insertSession.run(session))
  }

  async findSessionByTokenHash(tokenHash: Buffer): Promise<SessionAuthRecord | null> {
    return this.lock.read(() => {
      const r = this.s.sessionByHash.get(tokenHash) as Row | undefined
      return r ? authRecordFromRow(r, r.token_hash as Buffer) : null
    })
  }

  async findSessionWithDevices(tokenHash: Buffer, now: number, aliveSince: number): Promise<SessionWithDevices | null> {
    return this.lock.read(() => sessionWithDevicesFromRows(this.s.sessionWithDevices.all({ tokenHash, now, aliveSince }) as Row[], now))
  }

  async findSessionById(id: string): Promise<SessionWithUsername | null> {
    return this.lock.read(() => {
      const r = this.s.sessionById.get(id) as Row | undefined
      return r ? { ...sessionFromRow(r), username: r.username as string } : null
    })
  }

  async touchSessions(touches: { id: string; lastSeenAt: number; expiresAt: number }[]): Promise<void> {
    if (touches.length === 0) return
    return this.lock.write(() =>
      this.db
        .transaction(() => {
          for (const t of touches) this.s.touch.run(t.lastSeenAt, t.expiresAt, t.id)
        })
        .immediate(),
    )
  }

  async listActiveUserSessions(userId: string, now: number): Promise<SessionRow[]> {
    return this.lock.read(() => (this.s.activeUserSessions.all(userId, now) as Row[]).map(sessionFromRow))
  }

  async revokeSessions(ids: string[], reason: RevokeReason, now: number): Promise<string[]> {
    return this.lock.write(() => this.db.transaction(() => ids.filter((id) => this.s.revokeOne.run(now, reason, id).changes === 1)).immediate())
  }

  async revokeUserSessions(userId: string, exceptId: string | null, reason: RevokeReason, now: number): Promise<string[]> {
    return this.lock.write(() => this.db.transaction(() => this.revokeUserSessionsSync(userId, exceptId, reason, now)).immediate())
  }

  private revokeUserSessionsSync(userId: string, exceptId: string | null, reason: RevokeReason, now: number): string[] {
    const ids = (this.s.liveUserSessionIds.all(userId, now) as string[]).filter((id) => id !== exceptId)
    for (const id of ids) this.s.revokeOne.run(now, reason, id)
    return ids
  }

  async listSessions({ username, limit, cursor, activeAt }: SessionListOptions): Promise<Page<SessionWithUsername>> {
    const where: string[] = []
    const args: unknown[] = []
    if (username !== undefined) {
      where.push('u.username = ?')
      args.push(username)
    }
    if (activeAt !== undefined) {
      where.push('s.revoked_at IS NULL AND s.expires_at > ?')
      args.push(activeAt)
    }
    if (cursor) {
      where.push('(s.created_at < ? OR (s.created_at = ? AND s.id < ?))')
      args.push(cursor.at, cursor.at, cursor.id)
    }
    const sql = `SELECT s.*, u.username FROM sessions s JOIN users u ON u.id = s.user_id
      ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY s.created_at DESC, s.id DESC LIMIT ?`
    const rows = await this.lock.read(() =>
      (this.db.prepare(sql).all(...args, limit + 1) as Row[]).map((r) => ({ ...sessionFromRow(r), username: r.username as string })),
    )
    return paginate(rows, limit, (r) => r.createdAt)
  }

  async listRevokedSince(since: number): Promise<{ id: string; revokedAt: number; reason: RevokeReason | null }[]> {
    return this.lock.read(() =>
      (this.s.revokedSince.all(since, since) as Row[]).map((r) => ({
        id: r.id as string,
        revokedAt: r.revoked_at as number,
        reason: (r.revoked_reason as RevokeReason | null) ?? null,
      })),
    )
  }

  async externalChangeCounter(): Promise<number | null> {
    return this.lock.read(() => this.db.pragma('data_version', { simple: true }) as number)
  }

  async applyConnectionChanges(opened: ConnectionRow[], closedIds: string[]): Promise<void> {
    if (opened.length === 0 && closedIds.length === 0) return
    return this.lock.write(() =>
      this.db
        .transaction(() => {
          for (const c of opened) this.s.insertConnection.run(c)
          for (const id of closedIds) this.s.deleteConnection.run(id)
        })
        .immediate(),
    )
  }

  async listConnections({ username, limit, cursor, aliveSince }: ListOptions & { aliveSince: number }): Promise<Page<ConnectionListing>> {
    const where: string[] = ['n.heartbeat_at >= ?']
    const args: unknown[] = [aliveSince]
    if (username !== undefined) {
      where.push('u.username = ?')
      args.push(username)
    }
    if (cursor) {
      where.push('(c.connected_at < ? OR (c.connected_at = ? AND c.id < ?))')
      args.push(cursor.at, cursor.at, cursor.id)
    }
    const sql = `SELECT c.*, u.username, s.device_name FROM connections c
      JOIN nodes n ON n.id = c.node_id JOIN users u ON u.id = c.user_id JOIN sessions s ON s.id = c.session_id
      WHERE ${where.join(' AND ')} ORDER BY c.connected_at DESC, c.id DESC LIMIT ?`
    const rows = await this.lock.read(() => (this.db.prepare(sql).all(...args, limit + 1) as Row[]).map(connectionFromRow))
    return paginate(rows, limit, (r) => r.connectedAt)
  }

  async countUserConnections(userId: string, aliveSince: number): Promise<Map<string, number>> {
    return this.lock.read(() => {
      const rows = this.s.countUserConnections.all(userId, aliveSince) as { session_id: string; n: number }[]
      return new Map(rows.map((r) => [r.session_id, r.n]))
    })
  }

  async listUserNodes(userId: string, aliveSince: number): Promise<string[]> {
    return this.lock.read(() => this.s.userNodes.all(userId, aliveSince) as string[])
  }

  async listNodes(aliveSince: number): Promise<NodeListing[]> {
    return this.lock.read(() => (this.s.liveNodes.all(aliveSince) as Row[]).map(nodeFromRow))
  }

  async heartbeatNode(nodeId: string, startedAt: number, now: number): Promise<void> {
    return this.lock.write(() => void this.s.heartbeat.run(nodeId, startedAt, now))
  }

  async claimSession(claim: SessionClaim, aliveSince: number): Promise<boolean> {
    return this.lock.write(() => this.s.claimSession.run({ ...claim, aliveSince }).changes === 1)
  }

  async releaseSessionClaim(sessionId: string, connectionId: string): Promise<void> {
    return this.lock.write(() => void this.s.releaseClaim.run(sessionId, connectionId))
  }

  async removeNode(nodeId: string): Promise<void> {
    return this.lock.write(() =>
      this.db
        .transaction(() => {
          this.s.deleteNodeConnections.run(nodeId)
          this.s.deleteNodeClaims.run(nodeId)
          this.s.deleteNode.run(nodeId)
        })
        .immediate(),
    )
  }

  async purgeDeadNodes(deadBefore: number): Promise<string[]> {
    return this.lock.write(() =>
      this.db
        .transaction(() => {
          const dead = this.s.deadNodes.all(deadBefore) as string[]
          for (const id of dead) {
            this.s.deleteNodeConnections.run(id)
            this.s.deleteNode.run(id)
          }
          this.s.orphanConnections.run()
          this.s.orphanClaims.run()
          return dead
        })
        .immediate(),
    )
  }

  /** Lets writes still waiting for the lock finish (each within its bound), then closes. */
  async close(): Promise<void> {
    await this.lock.drain()
    await this.checkpointer?.stop()
    if (this.db.open) this.db.close()
  }
}
