import type { PasswordHasher } from '../auth/passwords.js'
import { checkPasswordRule, isComparablePassword, parseUsername } from '../auth/rules.js'
import type { DeviceInfo, IssuedSession, SessionService } from '../auth/sessions.js'
import type { AuthContext } from '../auth/sessions.js'
import { createId } from '../auth/tokens.js'
import { ApiError } from '../errors.js'
import { ConflictError, LastAdminError, type Role, type Store, type UserRow } from '../store/types.js'

/** What a new account is made of; the password is checked against the rule and hashed here. */
export interface NewAccount {
  username: string
  password: string
  email?: string | null
  firstName?: string | null
  lastName?: string | null
  role?: Role
}

export interface AccountServiceDeps {
  store: Store
  hasher: PasswordHasher
  /** Mints the session of a registration and announces the revocations account changes cause. */
  sessions: SessionService
  now: () => number
}

/**
 * Accounts: creation (operators, the first admin), registration with a first session, password
 * changes and resets, disabling. Every change that ends sessions announces them through the
 * session service, so live sockets close.
 */
export class AccountService {
  constructor(private readonly deps: AccountServiceDeps) {}

  /** Creates an account (no session): CLI, first admin. Throws ApiError on a rule or a conflict. */
  async createUser(input: NewAccount): Promise<UserRow> {
    const user = await this.newUser(input)
    await withConflicts(() => this.deps.store.createUser(user))
    return user
  }

  /** Creates an account and logs it in on this device, in one transaction. */
  async register(input: Omit<NewAccount, 'role'>, device: DeviceInfo): Promise<IssuedSession> {
    const user = await this.newUser(input)
    const { session, token, row } = this.deps.sessions.mint(user.id, 'user', device)
    await withConflicts(() => this.deps.store.createUserWithSession(user, row))
    return { user, session, token }
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
    this.deps.sessions.announce(revoked, 'password_changed')
  }

  /** Sets a new password without the old one (operators); revokes every session and returns their ids. */
  async resetPassword(userId: string, newPassword: string): Promise<string[]> {
    checkPasswordRule(newPassword)
    const hash = await this.deps.hasher.hash(newPassword)
    const revoked = await this.deps.store.updatePassword(userId, hash, null, this.deps.now())
    this.deps.sessions.announce(revoked, 'password_changed')
    return revoked
  }

  /** Disables (revoking every session) or re-enables an account; returns the revoked ids. 409 LAST_ADMIN for the last enabled admin. */
  async setDisabled(userId: string, disabled: boolean): Promise<string[]> {
    const revoked = await refusingLastAdmin(() => this.deps.store.setUserDisabled(userId, disabled, this.deps.now()))
    this.deps.sessions.announce(revoked, 'account_disabled')
    return revoked
  }

  /** Sets the role; 409 LAST_ADMIN when it would demote the last enabled admin. Sessions stay (admin routes read the role on every call). */
  async setRole(userId: string, role: Role): Promise<void> {
    await refusingLastAdmin(() => this.deps.store.setUserRole(userId, role, this.deps.now()))
  }

  /**
   * Deletes the account and its sessions (the username is free again); every live session is
   * announced as revoked (`account_deleted`), so its sockets close with 4501 on every node.
   * 409 LAST_ADMIN for the last enabled admin. Returns the ids of the sessions that were live.
   */
  async deleteUser(userId: string): Promise<string[]> {
    const revoked = await refusingLastAdmin(() => this.deps.store.deleteUser(userId, this.deps.now()))
    this.deps.sessions.announce(revoked, 'account_deleted')
    return revoked
  }

  private async newUser(input: NewAccount): Promise<UserRow> {
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
}

/** Runs a write that may hit a unique username or email, as 409 USERNAME_TAKEN / EMAIL_TAKEN. */
async function withConflicts(write: () => Promise<void>): Promise<void> {
  try {
    await write()
  } catch (e) {
    if (e instanceof ConflictError) throw new ApiError(e.field === 'email' ? 'EMAIL_TAKEN' : 'USERNAME_TAKEN')
    throw e
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
