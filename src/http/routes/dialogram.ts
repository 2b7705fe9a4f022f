import { z } from 'zod'
import { isComparablePassword, normalizeUsername, parseEmail } from '../../auth/rules.js'
import type { IssuedSession } from '../../auth/sessions.js'
import { ApiError } from '../../errors.js'
import { accountKey } from '../../limits/limits.js'
import { toDialogramSession, toDialogramUser } from '../../views.js'
import { parseWith, readJson } from '../body.js'
import { clientText, DeviceName } from '../text-fields.js'
import type { HttpContext, Route } from '../router.js'
import type { RouteDeps } from './deps.js'

const name = clientText(100)
const email = clientText(254)

const UserBody = z.object({
  // No length limit here: the username rule answers INVALID_USERNAME for a long one.
  nickName: clientText(),
  email,
  password: z.string(),
  profile: z.object({ firstName: name.optional(), lastName: name.optional() }).optional(),
  deviceName: DeviceName.optional(),
})

const SessionBody = z.object({ email, password: z.string(), deviceName: DeviceName.optional() })

const BackofficeBody = z.union([
  z.object({ email, password: z.string() }),
  z.object({ username: z.string().max(256), password: z.string() }),
])

const sessionResult = (issued: IssuedSession) => ({
  status: 201,
  result: { data: [toDialogramSession(issued.session, issued.token)], includes: [] },
})

/** Dialogram dialect: `/api/user`, `/api/session`, `/api/backoffice/session`. */
export function dialogramRoutes({ config, sessions, limits, log }: RouteDeps): Route[] {
  /** One code for a wrong email or password here; a disabled account is still 403. */
  async function login(ctx: HttpContext, who: { email: string } | { username: string }, password: string, deviceName: string, kind: 'user' | 'backoffice') {
    // Cheap refusals first, then the rate limits, and only then any bcrypt work.
    if (!isComparablePassword(password)) throw new ApiError('INVALID_PASSWORD')
    const account = accountKey('email' in who ? who : { username: normalizeUsername(who.username) })
    await limits.login.attempt(ctx.client.ip, account)
    const outcome = await sessions.login(who, password, { deviceName, ...ctx.client }, kind)
    log.info({ event: 'login', dialect: 'dialogram', kind, result: outcome.ok ? 'ok' : outcome.failure, ip: ctx.client.ip }, 'login')
    if (outcome.ok) {
      await limits.login.succeeded(account)
      return sessionResult(outcome.issued)
    }
    if (outcome.failure === 'DISABLED') throw new ApiError('ACCOUNT_DISABLED')
    if (outcome.failure === 'NOT_ADMIN') throw new ApiError('FORBIDDEN', 'Backoffice sessions are for admin accounts.')
    throw new ApiError('INVALID_CREDENTIALS')
  }

  return [
    {
      method: 'POST',
      path: '/api/user',
      dialect: 'dialogram',
      async handle({ req, client }) {
        if (!config.signupOpen) throw new ApiError('SIGNUP_CLOSED')
        const body = parseWith(UserBody, await readJson(req))
        await limits.register.attempt(client.ip)
        const issued = await sessions.register(
          {
            username: body.nickName,
            password: body.password,
            email: parseEmail(body.email),
            firstName: body.profile?.firstName ?? null,
            lastName: body.profile?.lastName ?? null,
          },
          { deviceName: body.deviceName ?? 'Unknown', ...client },
        )
        log.info({ event: 'register', dialect: 'dialogram', user_id: issued.user.id, ip: client.ip }, 'user registered')
        return {
          status: 201,
          result: { data: [toDialogramUser(issued.user)], includes: [toDialogramSession(issued.session, issued.token)] },
        }
      },
    },
    {
      method: 'POST',
      path: '/api/session',
      dialect: 'dialogram',
      async handle(ctx) {
        const body = parseWith(SessionBody, await readJson(ctx.req))
        return login(ctx, { email: body.email.trim().toLowerCase() }, body.password, body.deviceName ?? 'Unknown', 'user')
      },
    },
    {
      method: 'POST',
      path: '/api/backoffice/session',
      dialect: 'dialogram',
      async handle(ctx) {
        const body = parseWith(BackofficeBody, await readJson(ctx.req))
        const who = 'email' in body ? { email: body.email.trim().toLowerCase() } : { username: body.username }
        return login(ctx, who, body.password, 'Backoffice', 'backoffice')
      },
    },
  ]
}
