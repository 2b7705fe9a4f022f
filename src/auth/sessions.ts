import {
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
import { isComparablePassword, normalizeUsername } from './rules.js'
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
export type LoginListener = (kind: SessionKind, result: 'ok' | LoginFailure | 'error', seconds: number) => void

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

/** Sessions: login, validation of a Token/Username pair, revocation; minting for registrations. */
export class SessionService {
  constructor(private readonly deps: SessionServiceDeps) {}

  /** Checks a password and issues a new session; failures are values for the dialect to map. */
  async login(who: { username: string } | { email: string }, password: string, device: DeviceInfo, kind: SessionKind = 'user'): Promise<LoginResult> {
    let outcome: LoginResult | undefined
    const started = performance.now()
    try {
      outcome = await this.checkLogin(who, password, device, kind)
      return outcome
    } finally {
      this.deps.onLogin?.(kind, outcome ? (outcome.ok ? 'ok' : outcome.failure) : 'error', (performance.now() - started) / 1000)
    }
  }

  private async checkLogin(who: { username: string } | { email: string }, password: string, device: DeviceInfo, kind: SessionKind): Promise<LoginResult> {
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
    const { session, token, row } = this.mint(user.id, kind, device)
    await store.createSession(row)
    return { ok: true, issued: { user, session, token } }
  }

  /**
   * Validates a Token + Username pair: one SHA-256, one indexed lookup, a constant-time compare.
   * Returns null for anything that is not a live session of that user.
   */
  async authenticate(token: string, username: string): Promise<AuthContext | null> {
    const found = await this.check(token, username, (hash) => this.deps.store.findSessionByTokenHash(hash))
    return found?.auth ?? null
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

  /** Tells the revocation listener (live sockets, the bus) about sessions a store change revoked. */
  announce(ids: string[], reason: RevokeReason): void {
    if (ids.length > 0) this.deps.onRevoked(ids, reason)
  }

  /** A new session for the user (not stored yet): the row to write, its public view and the token shown once. */
  mint(userId: string, kind: SessionKind, device: DeviceInfo) {
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
}
