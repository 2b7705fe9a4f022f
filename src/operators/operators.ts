import { toValidUsername } from '../auth/rules.js'
import type { AccountService } from '../accounts/accounts.js'
import type { SessionService } from '../auth/sessions.js'
import { createPassword } from '../auth/tokens.js'
import type { AuditRow, ConnectionListing, NodeListing, Page, PageCursor, Role, SessionWithUsername, Store, UserListing, UserRow } from '../store/types.js'

/** What operators can see and do; shared by the admin API and the CLI so both behave alike. */

export const DEFAULT_PAGE_LIMIT = 50
export const MAX_PAGE_LIMIT = 200

export interface ListQuery {
  username?: string
  limit: number
  cursor?: PageCursor
}

/**
 * Reads a page size: absent → DEFAULT_PAGE_LIMIT, above MAX_PAGE_LIMIT → capped, and null for
 * anything that is not a positive integer (the caller answers 400 / usage error).
 */
export function parseLimit(raw: string | null | undefined): number | null {
  if (raw === null || raw === undefined || raw === '') return DEFAULT_PAGE_LIMIT
  if (!/^[0-9]{1,9}$/.test(raw)) return null
  const n = Number(raw)
  return n < 1 ? null : Math.min(n, MAX_PAGE_LIMIT)
}

/** Live devices: connections held by nodes whose heartbeat is at or after `aliveSince`, newest first. */
export function listLiveDevices(store: Store, query: ListQuery, aliveSince: number): Promise<Page<ConnectionListing>> {
  return store.listConnections({ ...query, aliveSince })
}

export interface SessionListing {
  session: SessionWithUsername
  /** Live connections of the session on live nodes. */
  connections: number
}

/** Sessions newest first (ties by id); with `activeOnly` only those neither revoked nor expired, filtered in the query. */
export async function listSessions(store: Store, query: ListQuery & { activeOnly: boolean }, now: number, aliveSince: number): Promise<Page<SessionListing>> {
  const { username, limit, cursor, activeOnly } = query
  const page = await store.listSessions({ username, limit, cursor, ...(activeOnly ? { activeAt: now } : {}) })
  return { rows: await withConnectionCounts(store, page.rows, aliveSince), next: page.next }
}

async function withConnectionCounts(store: Store, sessions: SessionWithUsername[], aliveSince: number): Promise<SessionListing[]> {
  const counts = new Map<string, number>()
  for (const userId of new Set(sessions.map((s) => s.userId))) {
    for (const [sessionId, n] of await store.countUserConnections(userId, aliveSince)) counts.set(sessionId, n)
  }
  return sessions.map((session) => ({ session, connections: counts.get(session.id) ?? 0 }))
}

/** The account named `input` (lowercased first), or null when there is none or the name is not valid. */
export async function findUser(store: Store, input: string): Promise<UserRow | null> {
  const username = toValidUsername(input)
  return username === null ? null : store.findUserByUsername(username)
}

/**
 * Revokes a session as an operator (reason `revoked_by_admin`). Null for an unknown id;
 * `revoked: false` when it was already revoked (nothing to do).
 */
export async function revokeSessionAsAdmin(
  store: Store,
  sessions: SessionService,
  sessionId: string,
): Promise<{ session: SessionWithUsername; revoked: boolean } | null> {
  if (sessionId.length === 0 || sessionId.length > 64) return null
  const session = await store.findSessionById(sessionId)
  if (!session) return null
  const revoked = await sessions.revoke([sessionId], 'revoked_by_admin')
  return { session, revoked: revoked.length === 1 }
}

/** Disables (revoking every session) or enables an account; null for an unknown user. */
export async function setUserDisabled(
  store: Store,
  accounts: AccountService,
  username: string,
  disabled: boolean,
): Promise<{ user: UserRow; revoked: number } | null> {
  const user = await findUser(store, username)
  if (!user) return null
  const revoked = await accounts.setDisabled(user.id, disabled)
  return { user: { ...user, disabled }, revoked: revoked.length }
}

export interface UserListQuery {
  q?: string
  role?: Role
  disabled?: boolean
  limit: number
  cursor?: PageCursor
}

/** Accounts newest first, with their live sessions and whether one is connected; filters run in the query. */
export function listUsers(store: Store, query: UserListQuery, now: number, aliveSince: number): Promise<Page<UserListing>> {
  return store.listUsers({ ...query, now, aliveSince })
}

/**
 * Creates an account as an operator. Without `password` one is generated and returned (shown once,
 * never logged or stored in clear). Throws ApiError on a rule or a taken name/email.
 */
export async function createUserAsAdmin(
  accounts: AccountService,
  input: { username: string; password?: string; role?: Role; email?: string | null },
): Promise<{ user: UserRow; generated: string | null }> {
  const generated = input.password === undefined ? createPassword() : null
  const user = await accounts.createUser({
    username: input.username,
    password: input.password ?? generated!,
    role: input.role ?? 'user',
    email: input.email ?? null,
  })
  return { user, generated }
}

/**
 * Sets a new password (generated when none is given); every session of the user is revoked. Null
 * for an unknown user.
 */
export async function resetPasswordAsAdmin(
  store: Store,
  accounts: AccountService,
  username: string,
  password: string | undefined,
): Promise<{ user: UserRow; generated: string | null; revoked: number } | null> {
  const user = await findUser(store, username)
  if (!user) return null
  const generated = password === undefined ? createPassword() : null
  const revoked = await accounts.resetPassword(user.id, password ?? generated!)
  return { user, generated, revoked: revoked.length }
}

/** Sets the role of an account; null for an unknown user (409 LAST_ADMIN from the service). */
export async function setRoleAsAdmin(store: Store, accounts: AccountService, username: string, role: Role): Promise<UserRow | null> {
  const user = await findUser(store, username)
  if (!user) return null
  await accounts.setRole(user.id, role)
  return { ...user, role }
}

/** Deletes an account and its sessions (sockets close 4501); null for an unknown user. */
export async function deleteUserAsAdmin(store: Store, accounts: AccountService, username: string): Promise<{ user: UserRow; revoked: number } | null> {
  const user = await findUser(store, username)
  if (!user) return null
  const revoked = await accounts.deleteUser(user.id)
  return { user, revoked: revoked.length }
}

/** Revokes every live session of an account (reason `revoked_by_admin`); null for an unknown user. */
export async function revokeUserSessionsAsAdmin(store: Store, sessions: SessionService, username: string): Promise<{ user: UserRow; revoked: number } | null> {
  const user = await findUser(store, username)
  if (!user) return null
  const revoked = await sessions.revokeOthers(user.id, null, 'revoked_by_admin')
  return { user, revoked: revoked.length }
}

/** The operator actions on record, newest first. */
export function listAudit(store: Store, query: { limit: number; cursor?: PageCursor }): Promise<Page<AuditRow>> {
  return store.listAudit(query)
}

/** The live nodes (heartbeat at or after `aliveSince`) and their connection counts, by id. */
export function listLiveNodes(store: Store, aliveSince: number): Promise<NodeListing[]> {
  return store.listNodes(aliveSince)
}
