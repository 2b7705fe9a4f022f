import type { IncomingMessage } from 'node:http'
import { z } from 'zod'
import { ApiError } from '../../errors.js'
import { findUser, listLiveDevices, listSessions, revokeSessionAsAdmin, setUserDisabled } from '../../operators/operators.js'
import { clientInfo } from '../../request/client-info.js'
import { AdminSessionViewSchema, AdminUserViewSchema, DeviceViewSchema, encodeCursor, toAdminSessionView, toAdminUserView, toDeviceView } from '../../views.js'
import { route, type AdminCaller, type Route } from '../route.js'
import { ListQuery, PushBody, SessionListQuery } from '../schemas.js'
import type { RouteDeps } from './deps.js'

const Cursor = z.string().nullable()

/** Who did it, for the audit line: never a token. */
const actorOf = (caller: AdminCaller) =>
  caller.kind === 'service' ? { actor: 'service' } : { actor: 'admin', actor_user_id: caller.auth.user.id, actor_session_id: caller.auth.session.id }

/** Operators' routes (`/admin/*`): an admin's backoffice session or the service token. */
export function adminRoutes({ config, store, sessions, accounts, log, now, metrics, deliverer }: RouteDeps): Route[] {
  const trustProxy = config.trustProxy
  /** The audit line of one admin call: reads at debug (a polling backend must not flood the log), changes at info and counted. */
  function audit(req: IncomingMessage, caller: AdminCaller, action: string, details: Record<string, unknown> = {}, change = true) {
    const via = caller.kind === 'service' ? 'service' : 'http'
    const line = { event: 'admin_action', action, ...actorOf(caller), via, ip: clientInfo(req, trustProxy).ip, ...details }
    if (!change) return log.debug(line, 'admin action')
    log.info(line, 'admin action')
    metrics.operatorAction(action, via)
  }

  const disableRoute = (disabled: boolean) =>
    route(
      {
        id: disabled ? 'disableUser' : 'enableUser',
        method: 'POST',
        path: `/admin/users/:username/${disabled ? 'disable' : 'enable'}`,
        dialect: 'nullptr',
        auth: 'admin',
        summary: disabled
          ? 'Disables an account and revokes every session of it (409 LAST_ADMIN for the last enabled admin).'
          : 'Lets a disabled account log in again (revoked sessions stay revoked).',
        response: { status: 200, body: z.object({ user: AdminUserViewSchema, revoked: z.number().int() }) },
      },
      async ({ req, caller, params }) => {
        const done = await setUserDisabled(store, accounts, params.username ?? '', disabled)
        if (!done) throw new ApiError('NOT_FOUND', 'No such user.')
        audit(req, caller, disabled ? 'disable_user' : 'enable_user', { user_id: done.user.id, username: done.user.username, revoked: done.revoked })
        return { result: { user: toAdminUserView(done.user), revoked: done.revoked } }
      },
    )

  return [
    route(
      {
        id: 'listDevices',
        method: 'GET',
        path: '/admin/devices',
        dialect: 'nullptr',
        auth: 'admin',
        summary: 'Live connected devices on every live node, newest first.',
        query: ListQuery,
        response: { status: 200, body: z.object({ devices: z.array(DeviceViewSchema), next_cursor: Cursor }) },
      },
      async ({ req, caller, query }) => {
        audit(req, caller, 'list_devices', {}, false)
        const page = await listLiveDevices(store, query, now(), config.nodeHeartbeatMs)
        return { result: { devices: page.rows.map(toDeviceView), next_cursor: encodeCursor(page.next) } }
      },
    ),
    route(
      {
        id: 'listSessions',
        method: 'GET',
        path: '/admin/sessions',
        dialect: 'nullptr',
        auth: 'admin',
        summary: 'Sessions of every state (or `state=active`), newest first.',
        query: SessionListQuery,
        response: { status: 200, body: z.object({ sessions: z.array(AdminSessionViewSchema), next_cursor: Cursor }) },
      },
      async ({ req, caller, query }) => {
        audit(req, caller, 'list_sessions', {}, false)
        const at = now()
        const page = await listSessions(store, { ...query, activeOnly: query.state === 'active' }, at, config.nodeHeartbeatMs)
        return {
          result: {
            sessions: page.rows.map((r) => toAdminSessionView(r.session, r.connections, at)),
            next_cursor: encodeCursor(page.next),
          },
        }
      },
    ),
    route(
      {
        id: 'revokeSession',
        method: 'DELETE',
        path: '/admin/sessions/:session_id',
        dialect: 'nullptr',
        auth: 'admin',
        summary: 'Revokes any session; its live sockets close with 4501. Already revoked: `{revoked: false}`.',
        response: { status: 200, body: z.object({ revoked: z.boolean() }) },
      },
      async ({ req, caller, params }) => {
        const done = await revokeSessionAsAdmin(store, sessions, params.session_id ?? '')
        if (!done) throw new ApiError('NOT_FOUND', 'No such session.')
        audit(req, caller, 'revoke_session', { session_id: done.session.id, user_id: done.session.userId, revoked: done.revoked })
        return { result: { revoked: done.revoked } }
      },
    ),
    disableRoute(true),
    disableRoute(false),
    route(
      {
        id: 'pushEvent',
        method: 'POST',
        path: '/admin/users/:username/events',
        dialect: 'nullptr',
        auth: 'admin',
        summary: 'Pushes `{"type":"event","data":…}` to every live device of the user, on any node.',
        body: PushBody,
        response: { status: 200, body: z.object({ delivered: z.number().int() }) },
      },
      async ({ caller, params, body }) => {
        const user = await findUser(store, params.username ?? '')
        if (!user) throw new ApiError('NOT_FOUND', 'No such user.')
        const delivered = await deliverer.deliver(user.id, body.data)
        // The payload is the backend's business: never logged, only that a push happened.
        log.info({ event: 'push', user_id: user.id, delivered, by: caller.kind }, 'event pushed')
        return { result: { delivered } }
      },
    ),
  ]
}
