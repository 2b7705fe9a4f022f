import { z } from 'zod'
import type { IssuedSession } from '../../auth/sessions.js'
import { ApiError } from '../../errors.js'
import { DialogramSessionSchema, DialogramUserSchema, toDialogramSession, toDialogramUser } from '../../views.js'
import { loginRefusal } from '../dialects.js'
import { route, type Route } from '../route.js'
import { BackofficeBody, DialogramSessionBody, DialogramUserBody } from '../schemas.js'
import type { RouteDeps } from './deps.js'

const SessionResult = z.object({ data: z.array(DialogramSessionSchema), includes: z.array(z.never()) })
const sessionResult = (issued: IssuedSession) => ({ data: [toDialogramSession(issued.session, issued.token)], includes: [] })
/**
 * The backoffice login also includes the admin's user resource: a login by email must learn the
 * username that the `Username` header of every admin call carries (the console needs it).
 */
const BackofficeResult = z.object({ data: z.array(DialogramSessionSchema), includes: z.array(DialogramUserSchema) })
const backofficeResult = (issued: IssuedSession) => ({
  data: [toDialogramSession(issued.session, issued.token)],
  includes: [toDialogramUser(issued.user)],
})

/** Dialogram dialect: `/api/user`, `/api/session`, `/api/backoffice/session`. */
export function dialogramRoutes({ config, login, signup }: RouteDeps): Route[] {
  return [
    route(
      {
        id: 'dialogramRegister',
        crossOrigin: true,
        method: 'POST',
        path: '/api/user',
        dialect: 'dialogram',
        auth: 'none',
        summary: 'Creates an account (nickName becomes the username) and its first session.',
        precheck: () => {
          if (!config.signupOpen) throw new ApiError('SIGNUP_CLOSED')
        },
        body: DialogramUserBody,
        response: { status: 201, body: z.object({ data: z.array(DialogramUserSchema), includes: z.array(DialogramSessionSchema) }) },
      },
      async ({ body, client }) => {
        const issued = await signup({
          account: {
            username: body.nickName,
            password: body.password,
            email: body.email,
            firstName: body.profile?.firstName ?? null,
            lastName: body.profile?.lastName ?? null,
          },
          deviceName: body.deviceName ?? 'Unknown',
          client,
          dialect: 'dialogram',
        })
        return { result: { data: [toDialogramUser(issued.user)], includes: [toDialogramSession(issued.session, issued.token)] } }
      },
    ),
    route(
      {
        id: 'dialogramLogin',
        crossOrigin: true,
        method: 'POST',
        path: '/api/session',
        dialect: 'dialogram',
        auth: 'none',
        summary: 'Logs in by email: a new session and its token, shown once.',
        body: DialogramSessionBody,
        response: { status: 201, body: SessionResult },
      },
      async ({ body, client }) => {
        const outcome = await login({
          who: { email: body.email },
          password: body.password,
          deviceName: body.deviceName ?? 'Unknown',
          kind: 'user',
          client,
          dialect: 'dialogram',
        })
        if (!outcome.ok) throw loginRefusal('dialogram', outcome.failure)
        return { result: sessionResult(outcome.issued) }
      },
    ),
    route(
      {
        id: 'backofficeLogin',
        method: 'POST',
        path: '/api/backoffice/session',
        dialect: 'dialogram',
        auth: 'none',
        summary: 'Logs an admin in with a backoffice session (admin API and console only), by email or username.',
        body: BackofficeBody,
        response: { status: 201, body: BackofficeResult },
      },
      async ({ body, client }) => {
        const outcome = await login({
          who: 'email' in body ? { email: body.email } : { username: body.username },
          password: body.password,
          deviceName: 'Backoffice',
          kind: 'backoffice',
          client,
          dialect: 'dialogram',
        })
        if (!outcome.ok) throw loginRefusal('dialogram', outcome.failure)
        return { result: backofficeResult(outcome.issued) }
      },
    ),
  ]
}
