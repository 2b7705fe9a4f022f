import { ApiError } from '../errors.js'
import {
  ConflictError,
  LastAdminError,
  isSessionLive,
  type DeviceRecord,
  type RevokeReason,
  type SessionAuthRecord,
  type SessionKind,
  type SessionRow,
  type Store,
  type UserRow,
} from '../store/types.js'
import type { PasswordHasher } from './passwords.js'
import { checkPasswordRule, isComparablePassword, normalizeUsername, parseUsername } from './rules.js'
import { createId, createToken, digestsEqual, hashToken, MAX_TOKEN_LENGTH } from './tokens.js'

/** Where a login comes from; recorded on the session. */
export interface DeviceInfo {
  deviceName: string
  userAgent: string
  ip: string
}

/** An authenticated caller: the session and its user. */
export interface AuthContext {
  session: SessionRow
  user: { id: string; username: string; role: UserRow['role'] }
}

export interface IssuedSession {
  user: UserRow
  session: SessionRow
  /** Shown to the client once; never stored. */
  token: string
}

export type LoginFailure = 'UNKNOWN_USER' | 'WRONG_PASSWORD' | 'DISABLED' | 'NOT_ADMIN'
export type LoginResult = { ok: true; issued: IssuedSession } | { ok: false; failure: LoginFailure }

/** Told about every revocation so that live sockets close (the gateway, the bus). */
export type RevocationListener = (sessionIds: string[], reason: RevokeReason) => void

/** Told about every login attempt, whatever the dialect: `error` when it threw (e.g. OVERLOADED). */
export type LoginListener = (kind: SessionKind, result: 'ok' | LoginFailure | 'error') => void

export interface SessionServiceDeps {
  store: Store
  hasher: PasswordHasher
  now: () => number
  sessionTtlMs: number
  onRevoked: RevocationListener
  onLogin?: LoginListener
}

/** A session is re-slid at most this often, so that authenticated traffic is not a write per request. */
const TOUCH_INTERVAL_MS = 60_000
const MAX_DEVICE_FIELD = 256

const clip = (s: string) => (s.length > MAX_DEVICE_FIELD ? s.slice(0, MAX_DEVICE_FIELD) : s)

/** Accounts and sessions: registration, login, validation, revocation, password change. */
export class SessionService {
  constructor(private readonly deps: SessionServiceDeps) {}

  /** Creates an account (no session): CLI, first admin. Throws ApiError on a rule or conflict. */
  async createUser(input: { username: string; password: string; email?: string | null; role?: UserRow['role'] }): Promise<UserRow> {
    const user = await this.newUser(input)
    await this.withConflicts(() => this.deps.store.createUser(user))
    return user
  }

  /** Creates an account and logs it in on this device, in one transaction. */
  async register(
    input: { username: string; password: string; email?: string | null; firstName?: string | null; lastName?: string | null },
    device: DeviceInfo,
  ): Promise<IssuedSession> {
    const user = await this.newUser(input)
    const { session, token, row } = this.newSession(user.id, 'user', device)
    await this.withConflicts(() => this.deps.store.createUserWithSession(user, row))
    return { user, session, token }
  }

  /** Checks a password and issues a new session; failures are values for the dialect to map. */
  async login(
    who: { username: string } | { email: string },
    password: string,
    device: DeviceInfo,
    kind: SessionKind = 'user',
  ): Promise<LoginResult> {
    let outcome: LoginResult | undefined
    try {
      outcome = await this.checkLogin(who, password, device, kind)
      return outcome
    } finally {
      this.deps.onLogin?.(kind, outcome ? (outcome.ok ? 'ok' : outcome.failure) : 'error')
    }
  }

  private async checkLogin(
    who: { username: string } | { email: string },
    password: string,
    device: DeviceInfo,
    kind: SessionKind,
  ): Promise<LoginResult> {
    const { store, hasher } = this.deps
    const user = 'username' in who ? await store.findUserByUsername(normalizeUsername(who.username)) : await store.findUserByEmail(who.email)
    // Over 72 bytes can never match a stored hash: answer without any bcrypt work, known user or not.
    const comparable = isComparablePassword(password)
    if (!user) {
      if (comparable) await hasher.compareDummy(password)
      return { ok: false, failure: 'UNKNOWN_USER' }
    }
    if (!comparable || !(await hasher.compare(password, user.passwordHash))) return { ok: false, failure: 'WRONG_PASSWORD' }
    if (user.disabled) return { ok: false, failure: 'DISABLED' }
    if (kind === 'backoffice' && user.role !== 'admin') return { ok: false, failure: 'NOT_ADMIN' }
    const { session, token, row } = this.newSession(user.id, kind, device)
    await store.createSession(row)
    return { ok: true, issued: { user, session, token } }
  }

  /**
   * Validates a Token + Username pair: one SHA-256, one indexed lookup, a constant-time compare.
   * Returns null for anything that is not a live session of that user.
   */
  async authenticate(token: string, username: string): Promise<AuthContext | null> {
    const found = await this.check(token, username, (hash) => this.deps.store.findSessionByTokenHash(hash))
    return found && found.auth
  }

  /**
   * authenticate() for the WebSocket handshake: the same checks, with the user's devices (live
   * sessions and their connection counts on nodes alive since `aliveSince`) read in the same
   * store call.
   */
  async authenticateWithDevices(token: string, username: string, aliveSince: number): Promise<{ auth: AuthContext; devices: DeviceRecord[] } | null> {
    const found = await this.check(token, username, (hash, now) => this.deps.store.findSessionWithDevices(hash, now, aliveSince))
    return found && { auth: found.auth, devices: found.record.devices }
  }

  /** The checks of a pair against what `find` read for sha256(token); slides the session's expiry. */
  private async check<T extends SessionAuthRecord>(
    token: string,
    username: string,
    find: (hash: Buffer, now: number) => Promise<T | null>,
  ): Promise<{ auth: AuthContext; record: T } | null> {
    if (token.length === 0 || token.length > MAX_TOKEN_LENGTH || username.length > 64) return null
    const hash = hashToken(token)
    const now = this.deps.now()
    const found = await find(hash, now)
    if (!found || !digestsEqual(found.tokenHash, hash)) return null
    if (found.user.username !== normalizeUsername(username)) return null
    if (found.user.disabled || !isSessionLive(found.session, now)) return null
    const session = found.session
    if (now - session.lastSeenAt >= TOUCH_INTERVAL_MS) {
      // The record's device entry for this session is the same object: it shows the new times too.
      session.lastSeenAt = now
      session.expiresAt = now + this.deps.sessionTtlMs
      await this.deps.store.touchSessions([{ id: session.id, lastSeenAt: now, expiresAt: session.expiresAt }])
    }
    return { auth: { session, user: { id: found.user.id, username: found.user.username, role: found.user.role } }, record: found }
  }

  /** The user's live sessions, newest first. */
  listSessions(userId: string): Promise<SessionRow[]> {
    return this.deps.store.listActiveUserSessions(userId, this.deps.now())
  }

  /** Revokes the given sessions and tells the listener; returns the ids actually revoked. */
  async revoke(sessionIds: string[], reason: RevokeReason): Promise<string[]> {
    const revoked = await this.deps.store.revokeSessions(sessionIds, reason, this.deps.now())
    this.announce(revoked, reason)
    return revoked
  }

  /** Revokes every session of the user but `exceptId`; returns the revoked ids. */
  async revokeOthers(userId: string, exceptId: string | null, reason: RevokeReason): Promise<string[]> {
    const revoked = await this.deps.store.revokeUserSessions(userId, exceptId, reason, this.deps.now())
    this.announce(revoked, reason)
    return revoked
  }

  /** Revokes one of the caller's own sessions; false when it is not theirs or not live. */
  async revokeOwn(ctx: AuthContext, sessionId: string): Promise<boolean> {
    const target = await this.deps.store.findSessionById(sessionId)
    if (!target || target.userId !== ctx.user.id || !isSessionLive(target, this.deps.now())) return false
    await this.revoke([sessionId], sessionId === ctx.session.id ? 'logout' : 'revoked_by_user')
    return true
  }

  /**
   * Changes the password after checking the old one; every other session is revoked. The new
   * password's rule is checked first, so a refused request costs no bcrypt work at all.
   */
  async changePassword(ctx: AuthContext, oldPassword: string, newPassword: string): Promise<void> {
    checkPasswordRule(newPassword)
    const user = await this.deps.store.findUserById(ctx.user.id)
    if (!user || !isComparablePassword(oldPassword) || !(await this.deps.hasher.compare(oldPassword, user.passwordHash))) {
      throw new ApiError('INCORRECT_PASSWORD')
    }
    const hash = await this.deps.hasher.hash(newPassword)
    const revoked = await this.deps.store.updatePassword(user.id, hash, ctx.session.id, this.deps.now())
    this.announce(revoked, 'password_changed')
  }

  /** Sets a new password without the old one (operators); revokes every session and returns their ids. */
  async resetPassword(userId: string, newPassword: string): Promise<string[]> {
    checkPasswordRule(newPassword)
    const hash = await this.deps.hasher.hash(newPassword)
    const revoked = await this.deps.store.updatePassword(userId, hash, null, this.deps.now())
    this.announce(revoked, 'password_changed')
    return revoked
  }

  /** Disables (revoking every session) or re-enables an account; returns the revoked ids. 409 LAST_ADMIN for the last enabled admin. */
  async setDisabled(userId: string, disabled: boolean): Promise<string[]> {
    const revoked = await refusingLastAdmin(() => this.deps.store.setUserDisabled(userId, disabled, this.deps.now()))
    this.announce(revoked, 'account_disabled')
    return revoked
  }

  private announce(ids: string[], reason: RevokeReason): void {
    if (ids.length > 0) this.deps.onRevoked(ids, reason)
  }

  private async newUser(input: {
    username: string
    password: string
    email?: string | null
    firstName?: string | null
    lastName?: string | null
    role?: UserRow['role']
  }): Promise<UserRow> {
    const username = parseUsername(input.username)
    checkPasswordRule(input.password)
    return {
      id: createId(),
      username,
      email: input.email ?? null,
      passwordHash: await this.deps.hasher.hash(input.password),
      role: input.role ?? 'user',
      disabled: false,
      firstName: input.firstName ?? null,
      lastName: input.lastName ?? null,
      createdAt: this.deps.now(),
    }
  }

  private newSession(userId: string, kind: SessionKind, device: DeviceInfo) {
    const now = this.deps.now()
    const token = createToken()
    const session: SessionRow = {
      id: createId(),
      userId,
      kind,
      deviceName: clip(device.deviceName),
      userAgent: clip(device.userAgent),
      ip: clip(device.ip),
      createdAt: now,
      lastSeenAt: now,
      expiresAt: now + this.deps.sessionTtlMs,
      revokedAt: null,
      revokedReason: null,
    }
    return { session, token, row: { ...session, tokenHash: hashToken(token) } }
  }

  private async withConflicts(write: () => Promise<void>): Promise<void> {
    try {
      await write()
    } catch (e) {
      if (e instanceof ConflictError) throw new ApiError(e.field === 'email' ? 'EMAIL_TAKEN' : 'USERNAME_TAKEN')
      throw e
    }
  }
}

/** Runs a store change that may hit the last-admin rule, as 409 LAST_ADMIN. */
async function refusingLastAdmin<T>(change: () => Promise<T>): Promise<T> {
  try {
    return await change()
  } catch (e) {
    if (e instanceof LastAdminError) throw new ApiError('LAST_ADMIN')
    throw e
  }
}
