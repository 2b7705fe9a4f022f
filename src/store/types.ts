/** Rows and the Store interface shared by the SQLite and PostgreSQL stores. Times are epoch ms. */

export type Role = 'user' | 'admin'
export type SessionKind = 'user' | 'backoffice'

/** Why a session was revoked; recorded on the row and carried to live sockets. */
export type RevokeReason = 'logout' | 'revoked_by_user' | 'revoked_by_admin' | 'password_changed' | 'account_disabled' | 'duplicate_revoke' | 'account_deleted'

export interface UserRow {
  id: string
  username: string
  email: string | null
  passwordHash: string
  role: Role
  disabled: boolean
  firstName: string | null
  lastName: string | null
  createdAt: number
}

export interface SessionRow {
  id: string
  userId: string
  kind: SessionKind
  deviceName: string
  userAgent: string
  ip: string
  createdAt: number
  lastSeenAt: number
  expiresAt: number
  revokedAt: number | null
  revokedReason: RevokeReason | null
}

/** True when the session is neither revoked nor expired at `now`. */
export const isSessionLive = (s: SessionRow, now: number) => s.revokedAt === null && s.expiresAt > now

/** What a token lookup returns: the session, its stored hash and the owning user's auth fields. */
export interface SessionAuthRecord {
  session: SessionRow
  tokenHash: Buffer
  user: { id: string; username: string; role: Role; disabled: boolean }
}

/** One of the user's devices as the handshake reads it: a live session and its sockets on live nodes. */
export interface DeviceRecord {
  session: SessionRow
  connections: number
}

/** The WebSocket handshake's one read: the token's session and its user, and the user's devices. */
export interface SessionWithDevices extends SessionAuthRecord {
  /** The user's sessions neither revoked nor expired at `now`, newest first (the token's included when live). */
  devices: DeviceRecord[]
}

export interface SessionWithUsername extends SessionRow {
  username: string
}

export interface ConnectionRow {
  id: string
  sessionId: string
  userId: string
  nodeId: string
  ip: string
  userAgent: string
  connectedAt: number
}

/** One connection's hold on a session under DUPLICATE_POLICY=reject (table session_claims). */
export interface SessionClaim {
  sessionId: string
  nodeId: string
  connectionId: string
  claimedAt: number
}

/** A live connection as operators see it, joined with its user and session. */
export interface ConnectionListing extends ConnectionRow {
  username: string
  deviceName: string
}

/** A gateway node as operators see it. */
export interface NodeListing {
  id: string
  startedAt: number
  heartbeatAt: number
  connections: number
}

export type NewUser = Omit<UserRow, 'disabled'> & { disabled?: boolean }
export type NewSession = Omit<SessionRow, 'revokedAt' | 'revokedReason'> & { tokenHash: Buffer }

/** Keyset cursor: the sort key of the last row of the previous page. */
export interface PageCursor {
  at: number
  id: string
}

export interface Page<T> {
  rows: T[]
  next: PageCursor | null
}

export interface ListOptions {
  username?: string
  limit: number
  cursor?: PageCursor
}

/** Sessions of the operators' listing: `activeAt` keeps only those neither revoked nor expired at that time (in SQL). */
export interface SessionListOptions extends ListOptions {
  activeAt?: number
}

/** The accounts listing: `q` a username or email prefix (already lowercased), filters, a page. */
export interface UserListOptions {
  q?: string
  role?: Role
  disabled?: boolean
  limit: number
  cursor?: PageCursor
  /** Sessions live at this time are counted. */
  now: number
  /** Connections on nodes whose heartbeat is at or after this count as online. */
  aliveSince: number
}

/** An account as operators list it: the row, its live sessions and whether any is connected. */
export interface UserListing extends UserRow {
  sessions: number
  online: boolean
}

/** Where an operator action came from: an admin's backoffice session, the service token, or the CLI. */
export type AuditVia = 'http' | 'service' | 'cli'

/** One operator action on record. Never a password, token or hash. */
export interface AuditRow {
  id: string
  at: number
  /** The admin's username, `service`, or the CLI's OS user. */
  actor: string
  via: AuditVia
  /** What was done (`create_user`, `revoke_session`, …). */
  action: string
  /** On whom: a username or a session id. */
  target: string
  /** The node (or the CLI's host) that did it. */
  nodeId: string
  /** The live node that counts this action in its metrics (the CLI's actions), or null. */
  countOn: string | null
}

/** How long a deleted account's session tombstones stay for nodes watching the store (listRevokedSince). */
export const TOMBSTONE_KEEP_MS = 86_400_000

/** A unique constraint was hit; `field` says which. */
export class ConflictError extends Error {
  constructor(readonly field: 'username' | 'email') {
    super(`${field} already exists`)
  }
}

/** The change would leave no enabled admin account (disable, demote or delete of the last one). */
export class LastAdminError extends Error {
  constructor() {
    super('the last enabled admin cannot be disabled, demoted or deleted')
  }
}

/**
 * The store could not serve a call in time (its SQLite file stayed locked by another process
 * longer than the wait bound) and changed nothing; the caller may retry. Answered as 503 UNAVAILABLE.
 */
export class StoreUnavailableError extends Error {}

/**
 * Persistence of users, sessions, nodes and live connections. Every method is async so that the
 * PostgreSQL store fits the same interface; every multi-row write is one transaction.
 */
export interface Store {
  readonly kind: 'sqlite' | 'postgres'

  /** Throws ConflictError on a taken username or email. */
  createUser(user: NewUser): Promise<void>
  /** Creates a user and its first session in one transaction (registration). */
  createUserWithSession(user: NewUser, session: NewSession): Promise<void>
  findUserById(id: string): Promise<UserRow | null>
  findUserByUsername(username: string): Promise<UserRow | null>
  findUserByEmail(email: string): Promise<UserRow | null>
  hasAdmin(): Promise<boolean>
  /** Sets the hash and revokes every other live session of the user; returns the revoked ids. */
  updatePassword(userId: string, passwordHash: string, keepSessionId: string | null, now: number): Promise<string[]>
  /**
   * Disabling also revokes every live session of the user; returns the revoked ids. Throws
   * LastAdminError, changing nothing, when it would disable the last enabled admin.
   */
  setUserDisabled(userId: string, disabled: boolean, now: number): Promise<string[]>
  /** Sets the role. Throws LastAdminError, changing nothing, when it would demote the last enabled admin. */
  setUserRole(userId: string, role: Role, now: number): Promise<void>
  /**
   * Deletes the user and every session of it (connections go with them) in one transaction, leaving
   * a tombstone per live session that listRevokedSince reports (reason `account_deleted`), so nodes
   * watching the store close those sockets. Returns the ids of the sessions that were live. Throws
   * LastAdminError, changing nothing, for the last enabled admin. An unknown id deletes nothing.
   */
  deleteUser(userId: string, now: number): Promise<string[]>
  /** Accounts newest first (ties by id), filtered and keyset-paginated in the query. */
  listUsers(options: UserListOptions): Promise<Page<UserListing>>

  createSession(session: NewSession): Promise<void>
  /** The single indexed lookup of every authenticated HTTP request (the handshake reads findSessionWithDevices). */
  findSessionByTokenHash(tokenHash: Buffer): Promise<SessionAuthRecord | null>
  /**
   * findSessionByTokenHash, listActiveUserSessions and countUserConnections of the token's user in
   * one statement: the handshake reads what it authenticates and what its welcome lists at once.
   */
  findSessionWithDevices(tokenHash: Buffer, now: number, aliveSince: number): Promise<SessionWithDevices | null>
  findSessionById(id: string): Promise<SessionWithUsername | null>
  /** Slides expiry of sessions that were used; one transaction for the batch. */
  touchSessions(touches: { id: string; lastSeenAt: number; expiresAt: number }[]): Promise<void>
  /** The user's sessions that are neither revoked nor expired at `now`, newest first. */
  listActiveUserSessions(userId: string, now: number): Promise<SessionRow[]>
  /** Revokes those of `ids` still live; returns the ids it revoked. */
  revokeSessions(ids: string[], reason: RevokeReason, now: number): Promise<string[]>
  /** Revokes every live session of the user except `exceptId`; returns the revoked ids. */
  revokeUserSessions(userId: string, exceptId: string | null, reason: RevokeReason, now: number): Promise<string[]>
  /** Sessions (any state, or only the live ones with `activeAt`), newest first, keyset-paginated. */
  listSessions(options: SessionListOptions): Promise<Page<SessionWithUsername>>
  /**
   * Sessions revoked (or deleted with their account) at or after `since`, for nodes that watch for
   * revocations made elsewhere.
   */
  listRevokedSince(since: number): Promise<{ id: string; revokedAt: number; reason: RevokeReason | null }[]>
  /**
   * A number that changes whenever another process wrote to the store (SQLite's data_version),
   * or null when the store cannot tell (then callers poll unconditionally).
   */
  externalChangeCounter(): Promise<number | null>

  /** Records opened and closed connections of this node in one transaction. */
  applyConnectionChanges(opened: ConnectionRow[], closedIds: string[]): Promise<void>
  /** Live connections on nodes whose heartbeat is at or after `aliveSince`, newest first. */
  listConnections(options: ListOptions & { aliveSince: number }): Promise<Page<ConnectionListing>>
  /** Connection counts per session of the user, on live nodes. */
  countUserConnections(userId: string, aliveSince: number): Promise<Map<string, number>>
  /** Ids of the live nodes (heartbeat at or after `aliveSince`) holding a connection of the user, sorted. */
  listUserNodes(userId: string, aliveSince: number): Promise<string[]>

  /** The live nodes (heartbeat at or after `aliveSince`) with their connection counts, by id. */
  listNodes(aliveSince: number): Promise<NodeListing[]>
  /** Writes one audit entry. */
  recordAudit(entry: AuditRow): Promise<void>
  /** Audit entries newest first (ties by id), keyset-paginated. */
  listAudit(options: { limit: number; cursor?: PageCursor }): Promise<Page<AuditRow>>
  /** Audit entries at or after `since`, oldest first, at most `limit` (nodes watching for the CLI's). */
  listAuditSince(since: number, limit: number): Promise<AuditRow[]>

  /**
   * DUPLICATE_POLICY=reject: claims the session for one connection in one atomic statement. True
   * when this connection now holds it: nobody did, or the holder's node is not live (no heartbeat
   * at or after `aliveSince`). False while a live node holds it: two nodes never both get it.
   */
  claimSession(claim: SessionClaim, aliveSince: number): Promise<boolean>
  /** Lets go of the claim if `connectionId` still holds it (the socket closed or was refused). */
  releaseSessionClaim(sessionId: string, connectionId: string): Promise<void>

  /** Registers or refreshes this node's heartbeat. */
  heartbeatNode(nodeId: string, startedAt: number, now: number): Promise<void>
  /** Removes a node, its connections and its session claims (clean shutdown, or a restart of the same node id). */
  removeNode(nodeId: string): Promise<void>
  /** Removes nodes whose heartbeat is older than `deadBefore`, their connections and claims; returns their ids. */
  purgeDeadNodes(deadBefore: number): Promise<string[]>

  close(): Promise<void>
}
