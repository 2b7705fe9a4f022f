import type { AuthContext, SessionService } from '../auth/sessions.js'
import { secretsEqual } from '../auth/tokens.js'
import { ApiError } from '../errors.js'
import { readAuthorization } from '../request/authorization.js'
import { readHeaderCredentials } from '../request/credentials.js'
import type { IncomingMessage } from 'node:http'
import type { AdminCaller, Auth, Caller } from './route.js'

export interface AuthenticatorDeps {
  sessions: SessionService
  /** CHATGATE_SERVICE_TOKEN: a chat backend's bearer for the operator routes (unset: none). */
  serviceToken: string | undefined
  /** METRICS_TOKEN: the bearer `/metrics` requires (unset: open). */
  metricsToken: string | undefined
}

/** The router's one check of a route's `auth`: the caller, or ApiError 401/403. */
export type Authenticate = <A extends Auth>(auth: A, req: IncomingMessage) => Promise<Caller<A>>

/** Builds the check every route's `auth` goes through. */
export function createAuthenticator({ sessions, serviceToken, metricsToken }: AuthenticatorDeps): Authenticate {
  /** The caller's live session of any kind, or 401 UNAUTHORIZED. */
  async function anySession(req: IncomingMessage): Promise<AuthContext> {
    const creds = readHeaderCredentials(req)
    const auth = creds && (await sessions.authenticate(creds.token, creds.username))
    if (!auth) throw new ApiError('UNAUTHORIZED')
    return auth
  }

  /** A live user session; a backoffice session authenticates admin calls only (403). */
  async function userSession(req: IncomingMessage): Promise<AuthContext> {
    const auth = await anySession(req)
    if (auth.session.kind !== 'user') throw new ApiError('FORBIDDEN', 'Backoffice sessions may only call the admin routes.')
    return auth
  }

  /**
   * An admin's backoffice session, or the service bearer token; a user session gets 403. A Bearer
   * header decides alone (a wrong one is 401 even beside valid Token headers); another scheme (a
   * proxy's Basic) is not ours and leaves the Token/Username pair to decide.
   */
  async function admin(req: IncomingMessage): Promise<AdminCaller> {
    const authorization = readAuthorization(req.headers.authorization)
    if (authorization.scheme === 'bearer') {
      if (serviceToken && authorization.token !== null && secretsEqual(authorization.token, serviceToken)) return { kind: 'service' }
      throw new ApiError('UNAUTHORIZED')
    }
    const auth = await anySession(req)
    if (auth.session.kind !== 'backoffice' || auth.user.role !== 'admin') throw new ApiError('FORBIDDEN')
    return { kind: 'backoffice', auth }
  }

  /** `/metrics`: open unless METRICS_TOKEN is set, then only its bearer. */
  function metrics(req: IncomingMessage): null {
    if (metricsToken === undefined) return null
    const authorization = readAuthorization(req.headers.authorization)
    if (authorization.scheme !== 'bearer' || authorization.token === null || !secretsEqual(authorization.token, metricsToken)) {
      throw new ApiError('UNAUTHORIZED', 'A metrics bearer token is required.')
    }
    return null
  }

  const checks: { [A in Auth]: (req: IncomingMessage) => Promise<Caller<A>> | Caller<A> } = {
    none: () => null,
    session: userSession,
    'any-session': anySession,
    admin,
    metrics,
  }
  return async (auth, req) => checks[auth](req)
}
