import type { Logger } from 'pino'
import type { IssuedSession } from '../auth/sessions.js'
import type { Dialect } from '../envelope.js'
import type { Limits } from '../limits/limits.js'
import type { ClientInfo } from '../request/client-info.js'
import type { AccountService, NewAccount } from './accounts.js'

/** One registration as any dialect asks for it. */
export interface SignupRequest {
  account: Omit<NewAccount, 'role'>
  deviceName: string
  client: ClientInfo
  /** For the log line only. */
  dialect: Dialect
}

/** The signup flow of both dialects: the new account and its first session. */
export type SignupFlow = (request: SignupRequest) => Promise<IssuedSession>

/**
 * Builds the one signup flow: the per-IP registration limit (429), then the account and its first
 * session in one transaction (rules: 400; taken: 409), then one `register` log line.
 */
export function createSignupFlow(deps: { accounts: AccountService; limits: Limits; log: Logger }): SignupFlow {
  return async ({ account, deviceName, client, dialect }) => {
    await deps.limits.register.attempt(client.ip)
    const issued = await deps.accounts.register(account, { deviceName, ...client })
    deps.log.info(
      { event: 'register', dialect, username: issued.user.username, user_id: issued.user.id, session_id: issued.session.id, ip: client.ip },
      'user registered',
    )
    return issued
  }
}
