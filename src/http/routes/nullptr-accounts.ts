import { z } from 'zod'
import { parseUsername } from '../../auth/rules.js'
import { ApiError } from '../../errors.js'
import { accountKey } from '../../limits/limits.js'
import { parseWith, readJson } from '../body.js'
import { DeviceName } from '../text-fields.js'
import type { Route } from '../router.js'
import type { RouteDeps } from './deps.js'

const RegisterBody = z.object({
  username: z.string(),
  password: z.string(),
  device_name: DeviceName.optional(),
})

const PasswordBody = z.object({ old_password: z.string(), new_password: z.string() })

/** nullptr dialect: `/user/checkUsername`, `/user/register`, `/user/password`. */
export function nullptrAccountRoutes({ config, store, sessions, guards, limits, log }: RouteDeps): Route[] {
  return [
    {
      method: 'GET',
      path: '/user/checkUsername',
      dialect: 'nullptr',
      async handle({ query }) {
        const username = parseUsername(query.get('username') ?? '')
        return { result: { available: (await store.findUserByUsername(username)) === null } }
      },
    },
    {
      method: 'POST',
      path: '/user/register',
      dialect: 'nullptr',
      async handle({ req, client }) {
        if (!config.signupOpen) throw new ApiError('SIGNUP_CLOSED')
        const body = parseWith(RegisterBody, await readJson(req))
        await limits.register.attempt(client.ip)
        const issued = await sessions.register(
          { username: body.username, password: body.password },
          { deviceName: body.device_name ?? 'Unknown', ...client },
        )
        log.info({ event: 'register', user_id: issued.user.id, session_id: issued.session.id, ip: client.ip }, 'user registered')
        return {
          status: 201,
          result: { user_id: issued.user.id, session_token: issued.token, session_id: issued.session.id },
        }
      },
    },
    {
      method: 'PUT',
      path: '/user/password',
      dialect: 'nullptr',
      async handle(ctx) {
        const auth = await guards.requireSession(ctx)
        const body = parseWith(PasswordBody, await readJson(ctx.req))
        // Checking old_password is a password guess too: it shares the account's login budget.
        await limits.login.attempt(ctx.client.ip, accountKey({ username: auth.user.username }))
        await sessions.changePassword(auth, body.old_password, body.new_password)
        log.info({ event: 'password_changed', user_id: auth.user.id, session_id: auth.session.id }, 'password changed')
        return { result: {} }
      },
    },
  ]
}
