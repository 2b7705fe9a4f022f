import { z } from 'zod'
import { listUserDevices } from '../../auth/devices.js'
import { ApiError } from '../../errors.js'
import { accountKey } from '../../limits/limits.js'
import { SessionViewSchema } from '../../views.js'
import { loginRefusal } from '../dialects.js'
import { route, type Route } from '../route.js'
import { CheckUsernameQuery, LoginBody, PasswordBody, RegisterBody } from '../schemas.js'
import type { RouteDeps } from './deps.js'

const IssuedSession = z.object({ user_id: z.string(), session_token: z.string(), session_id: z.string() })
const Empty = z.object({})

/**
 * nullptr dialect: `/user/…` and `/session…`: register, log in, see and revoke one's own sessions.
 * Every one is a user route, callable by browser apps on the allowed origins.
 */
export function nullptrRoutes({ config, store, sessions, accounts, login, signup, limits, log, now, liveness }: RouteDeps): Route[] {
  return [
    route(
      {
        id: 'checkUsername',
        method: 'GET',
        path: '/user/checkUsername',
        dialect: 'nullptr',
        crossOrigin: true,
        auth: 'none',
        summary: 'Whether a username is free.',
        query: CheckUsernameQuery,
        response: { status: 200, body: z.object({ available: z.boolean() }) },
      },
      async ({ query }) => ({ result: { available: (await store.findUserByUsername(query.username)) === null } }),
    ),
    route(
      {
        id: 'register',
        method: 'POST',
        path: '/user/register',
        dialect: 'nullptr',
        crossOrigin: true,
        auth: 'none',
        summary: 'Creates an account and its first session.',
        precheck: () => {
          if (!config.signupOpen) throw new ApiError('SIGNUP_CLOSED')
        },
        body: RegisterBody,
        response: { status: 201, body: IssuedSession },
      },
      async ({ body, client }) => {
        const { user, session, token } = await signup({
          account: { username: body.username, password: body.password },
          deviceName: body.device_name ?? 'Unknown',
          client,
          dialect: 'nullptr',
        })
        return { result: { user_id: user.id, session_token: token, session_id: session.id } }
      },
    ),
    route(
      {
        id: 'login',
        method: 'POST',
        path: '/session',
        dialect: 'nullptr',
        crossOrigin: true,
        auth: 'none',
        summary: 'Logs in: a new session (one per device) and its token, shown once.',
        body: LoginBody,
        response: { status: 200, body: IssuedSession },
      },
      async ({ body, client }) => {
        const outcome = await login({
          who: { username: body.username },
          password: body.password,
          deviceName: body.device_name ?? 'Unknown',
          kind: 'user',
          client,
          dialect: 'nullptr',
        })
        if (!outcome.ok) throw loginRefusal('nullptr', outcome.failure)
        const { user, session, token } = outcome.issued
        return { result: { user_id: user.id, session_token: token, session_id: session.id } }
      },
    ),
    route(
      {
        id: 'currentSession',
        method: 'GET',
        path: '/session',
        dialect: 'nullptr',
        crossOrigin: true,
        auth: 'session',
        summary: 'The current session and every live device of the user.',
        response: { status: 200, body: z.object({ session: SessionViewSchema.optional(), devices: z.array(SessionViewSchema) }) },
      },
      async ({ caller }) => {
        const devices = await listUserDevices(store, caller.user.id, now(), liveness.liveSince(now()))
        return { result: { session: devices.find((d) => d.session_id === caller.session.id), devices } }
      },
    ),
    route(
      {
        id: 'logout',
        method: 'DELETE',
        path: '/session',
        dialect: 'nullptr',
        crossOrigin: true,
        // Any session may end itself, a backoffice one included.
        auth: 'any-session',
        summary: 'Logs this device out; its sockets close with 4501.',
        response: { status: 200, body: Empty },
      },
      async ({ caller }) => {
        await sessions.revoke([caller.session.id], 'logout')
        return { result: {} }
      },
    ),
    route(
      {
        id: 'logoutOthers',
        method: 'DELETE',
        path: '/session/others',
        dialect: 'nullptr',
        crossOrigin: true,
        auth: 'session',
        summary: 'Revokes every other session of the user.',
        response: { status: 200, body: z.object({ revoked: z.number().int() }) },
      },
      async ({ caller }) => {
        const revoked = await sessions.revokeOthers(caller.user.id, caller.session.id, 'revoked_by_user')
        return { result: { revoked: revoked.length } }
      },
    ),
    route(
      {
        id: 'revokeOwnSession',
        method: 'DELETE',
        path: '/session/:session_id',
        dialect: 'nullptr',
        crossOrigin: true,
        auth: 'session',
        summary: "Revokes one of the caller's own sessions (404 for any other id).",
        response: { status: 200, body: Empty },
      },
      async ({ caller, params }) => {
        if (!(await sessions.revokeOwn(caller, params.session_id ?? ''))) throw new ApiError('NOT_FOUND', 'No such session.')
        return { result: {} }
      },
    ),
    route(
      {
        id: 'changePassword',
        method: 'PUT',
        path: '/user/password',
        dialect: 'nullptr',
        crossOrigin: true,
        auth: 'session',
        summary: 'Changes the password; every other session is revoked.',
        body: PasswordBody,
        response: { status: 200, body: Empty },
      },
      async ({ caller, body, client }) => {
        // Checking old_password is a password guess too: it shares the account's login budget.
        await limits.login.attempt(client.ip, accountKey({ username: caller.user.username }))
        await accounts.changePassword(caller, body.old_password, body.new_password)
        log.info({ event: 'password_changed', user_id: caller.user.id, session_id: caller.session.id }, 'password changed')
        return { result: {} }
      },
    ),
  ]
}
