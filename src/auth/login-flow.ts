import type { Logger } from 'pino'
import type { Dialect } from '../envelope.js'
import { ApiError } from '../errors.js'
import { accountKey, type Limits } from '../limits/limits.js'
import type { ClientInfo } from '../request/client-info.js'
import type { SessionKind } from '../store/types.js'
import { isComparablePassword, normalizeUsername } from './rules.js'
import type { LoginResult, SessionService } from './sessions.js'

/** One login as any dialect asks for it. */
export interface LoginRequest {
  /** A username (normalized here) or a lowercased email. */
  who: { username: string } | { email: string }
  password: string
  deviceName: string
  kind: SessionKind
  client: ClientInfo
  /** For the log line only: the dialect shapes the answer, the flow is the same. */
  dialect: Dialect
}

/** The login flow of both dialects; failures are values the dialect maps to its own codes. */
export type LoginFlow = (request: LoginRequest) => Promise<LoginResult>

/**
 * Builds the one login flow: cheap refusals first (a password over 72 bytes: 400), then the rate
 * limits (per IP, then per account: 429), and only then any bcrypt work. Every attempt is one
 * `login` log line with the account named (never the password); a correct password clears the
 * account's counter.
 */
export function createLoginFlow(deps: { sessions: SessionService; limits: Limits; log: Logger }): LoginFlow {
  return async ({ who, password, deviceName, kind, client, dialect }) => {
    if (!isComparablePassword(password)) throw new ApiError('INVALID_PASSWORD')
    const account = accountKey('email' in who ? who : { username: normalizeUsername(who.username) })
    await deps.limits.login.attempt(client.ip, account)
    const outcome = await deps.sessions.login(who, password, { deviceName, ...client }, kind)
    const named = 'email' in who ? { email: who.email } : { username: account.slice('user:'.length) }
    if (!outcome.ok) {
      deps.log.info({ event: 'login', dialect, kind, result: outcome.failure, ...named, ip: client.ip }, 'login refused')
      return outcome
    }
    await deps.limits.login.succeeded(account)
    const { user, session } = outcome.issued
    deps.log.info({ event: 'login', dialect, kind, result: 'ok', username: user.username, user_id: user.id, session_id: session.id, ip: client.ip }, 'login')
    return outcome
  }
}
