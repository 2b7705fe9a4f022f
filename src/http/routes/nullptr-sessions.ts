import { z } from 'zod'
import { isComparablePassword, parseUsername } from '../../auth/rules.js'
import type { LoginFailure } from '../../auth/sessions.js'
import { listUserDevices } from '../../devices.js'
import { ApiError, type ErrorCode } from '../../errors.js'
import { accountKey } from '../../limits/limits.js'
import { parseWith, readJson } from '../body.js'
import { DeviceName } from '../text-fields.js'
import type { Route } from '../router.js'
import type { RouteDeps } from './deps.js'

const LoginBody = z.object({
  username: z.string(),
  password: z.string(),
  device_name: DeviceName.optional(),
})

const loginErrors: Record<LoginFailure, ErrorCode> = {
  UNKNOWN_USER: 'INCORRECT_USERNAME',
  WRONG_PASSWORD: 'INCORRECT_PASSWORD',
  DISABLED: 'ACCOUNT_DISABLED',
  NOT_ADMIN: 'FORBIDDEN',
}

/** nullptr dialect: log in, see and revoke one's own sessions. */
export function nullptrSessionRoutes({ config, store, sessions, guards, limits, log, now }: RouteDeps): Route[] {
  return [
    {
      method: 'POST',
      path: '/session',
      dialect: 'nullptr',
      async handle({ req, client }) {
        const body = parseWith(LoginBody, await readJson(req))
        // Cheap refusals first, then the rate limits, and only then any bcrypt work.
        const username = parseUsername(body.username)
        if (!isComparablePassword(body.password)) throw new ApiError('INVALID_PASSWORD')
        const account = accountKey({ username })
        await limits.login.attempt(client.ip, account)
        const outcome = await sessions.login({ username }, body.password, {
          deviceName: body.device_name ?? 'Unknown',
          ...client,
        })
        if (!outcome.ok) {
          log.info({ event: 'login', result: outcome.failure, ip: client.ip }, 'login refused')
          throw new ApiError(loginErrors[outcome.failure])
        }
        await limits.login.succeeded(account)
        const { user, session, token } = outcome.issued
        log.info({ event: 'login', result: 'ok', user_id: user.id, session_id: session.id, ip: client.ip }, 'login')
        return { result: { user_id: user.id, session_token: token, session_id: session.id } }
      },
    },
    {
      method: 'GET',
      path: '/session',
      dialect: 'nullptr',
      async handle(ctx) {
        const auth = await guards.requireSession(ctx)
        const devices = await listUserDevices(store, auth.user.id, now(), config.nodeHeartbeatMs)
        const current = devices.find((d) => d.session_id === auth.session.id)
        return { result: { session: current, devices } }
      },
    },
    {
      method: 'DELETE',
      path: '/session',
      dialect: 'nullptr',
      async handle(ctx) {
        // Any session may end itself, a backoffice one included.
        const auth = await guards.requireAnySession(ctx)
        await sessions.revoke([auth.session.id], 'logout')
        return { result: {} }
      },
    },
    {
      method: 'DELETE',
      path: '/session/others',
      dialect: 'nullptr',
      async handle(ctx) {
        const auth = await guards.requireSession(ctx)
        const revoked = await sessions.revokeOthers(auth.user.id, auth.session.id, 'revoked_by_user')
        return { result: { revoked: revoked.length } }
      },
    },
    {
      method: 'DELETE',
      path: '/session/:session_id',
      dialect: 'nullptr',
      async handle(ctx) {
        const auth = await guards.requireSession(ctx)
        if (!(await sessions.revokeOwn(auth, ctx.params.session_id ?? ''))) throw new ApiError('NOT_FOUND', 'No such session.')
        return { result: {} }
      },
    },
  ]
}
