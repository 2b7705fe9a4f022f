import type { AuthContext, SessionService } from '../auth/sessions.js'
import { secretsEqual } from '../auth/tokens.js'
import { ApiError } from '../errors.js'
import { readAuthorization } from '../request/authorization.js'
import { readHeaderCredentials } from '../request/credentials.js'
import type { HttpContext } from './router.js'

/** Who may call the operator routes: an admin's backoffice session, or the chat backend's service token. */
export type AdminCaller = { kind: 'backoffice'; auth: AuthContext } | { kind: 'service' }

/** Builds the guards every authenticated route uses. */
export function createGuards(sessions: SessionService, serviceToken: string | undefined) {
  /** The caller's live session of any kind, or 401 UNAUTHORIZED. */
  async function requireAnySession(ctx: HttpContext): Promise<AuthContext> {
    const creds = readHeaderCredentials(ctx.req)
    const auth = creds && (await sessions.authenticate(creds.token, creds.username))
    if (!auth) throw new ApiError('UNAUTHORIZED')
    return auth
  }

  /**
   * The caller's live user session, or 401 UNAUTHORIZED. A backoffice session gets 403 FORBIDDEN:
   * it authenticates admin calls only (and may log itself out, see requireAnySession).
   */
  async function requireSession(ctx: HttpContext): Promise<AuthContext> {
    const auth = await requireAnySession(ctx)
    if (auth.session.kind !== 'user') throw new ApiError('FORBIDDEN', 'Backoffice sessions may only call the admin routes.')
    return auth
  }

  /**
   * A backoffice session of an admin, or the service bearer token; a user session gets 403. A
   * Bearer header decides alone (a wrong one is 401 even beside valid Token headers); another
   * scheme (a proxy's Basic) is not ours and leaves the Token/Username pair to decide.
   */
  async function requireAdmin(ctx: HttpContext): Promise<AdminCaller> {
    const authorization = readAuthorization(ctx.req.headers.authorization)
    if (authorization.scheme === 'bearer') {
      if (serviceToken && authorization.token !== null && secretsEqual(authorization.token, serviceToken)) return { kind: 'service' }
      throw new ApiError('UNAUTHORIZED')
    }
    const auth = await requireAnySession(ctx)
    if (auth.session.kind !== 'backoffice' || auth.user.role !== 'admin') throw new ApiError('FORBIDDEN')
    return { kind: 'backoffice', auth }
  }

  return { requireSession, requireAnySession, requireAdmin }
}

export type Guards = ReturnType<typeof createGuards>
