import type { IncomingMessage } from 'node:http'
import { z } from 'zod'
import { ApiError } from '../../errors.js'
import {
  createUserAsAdmin,
  deleteUserAsAdmin,
  findUser,
  listAudit,
  listLiveDevices,
  listLiveNodes,
  listSessions,
  listUsers,
  resetPasswordAsAdmin,
  revokeSessionAsAdmin,
  revokeUserSessionsAsAdmin,
  setRoleAsAdmin,
  setUserDisabled,
} from '../../operators/operators.js'
import { clientInfo } from '../../request/client-info.js'
import {
  AdminSessionViewSchema,
  AdminUserListingSchema,
  AdminUserViewSchema,
  AuditEntrySchema,
  DeviceViewSchema,
  encodeCursor,
  NodeViewSchema,
  toAdminSessionView,
  toAdminUserListing,
  toAdminUserView,
  toAuditEntry,
  toDeviceView,
  toNodeView,
} from '../../views.js'
import { route, type AdminCaller, type Route } from '../route.js'
import { AdminCreateUserBody, AdminPasswordBody, AuditQuery, ListQuery, PushBody, RoleBody, SessionListQuery, UserListQuery } from '../schemas.js'
import type { RouteDeps } from './deps.js'

const Cursor = z.string().nullable()

/** Who did it, for the audit trail: the admin's username or `service`; never a token. */
const actorOf = (caller: AdminCaller): { actor: string; details: Record<string, string> } =>
  caller.kind === 'service'
    ? { actor: 'service', details: {} }
    : { actor: caller.auth.user.username, details: { actor_user_id: caller.auth.user.id, actor_session_id: caller.auth.session.id } }

const Empty = z.object({})
const UnknownUser = () => new ApiError('NOT_FOUND', 'No such user.')

/** Operators' routes (`/admin/*`): an admin's backoffice session or the service token. */
export function adminRoutes({ config, store, sessions, accounts, log, now, metrics, deliverer, audit: trail, liveness }: RouteDeps): Route[] {
  const trustProxy = config.trustProxy
  /** A read: a debug line only (a polling backend must not flood the log); not an action, not on record. */
  function noteRead(req: IncomingMessage, caller: AdminCaller, action: string) {
    const { actor } = actorOf(caller)
    log.debug(
      { event: 'admin_action', action, actor, via: caller.kind === 'service' ? 'service' : 'http', ip: clientInfo(req, trustProxy).ip },
      'admin action (read)',
    )
  }
  /** A change: one audit entry (row + info line) and one count in the metrics. */
  async function audit(req: IncomingMessage, caller: AdminCaller, action: string, target: string, details: Record<string, unknown> = {}) {
    const via = caller.kind === 'service' ? 'service' : 'http'
    const who = actorOf(caller)
    await trail.record({ actor: who.actor, via, action, target, details: { ...who.details, ip: clientInfo(req, trustProxy).ip, ...details } })
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
        if (!done) throw UnknownUser()
        await audit(req, caller, disabled ? 'disable_user' : 'enable_user', done.user.username, { user_id: done.user.id, revoked: done.revoked })
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
        noteRead(req, caller, 'list_devices')
        const page = await listLiveDevices(store, query, liveness.liveSince(now()))
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
        noteRead(req, caller, 'list_sessions')
        const at = now()
        const page = await listSessions(store, { ...query, activeOnly: query.state === 'active' }, at, liveness.liveSince(at))
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
        await audit(req, caller, 'revoke_session', done.session.id, { username: done.session.username, user_id: done.session.userId, revoked: done.revoked })
        return { result: { revoked: done.revoked } }
      },
    ),
    disableRoute(true),
    disableRoute(false),
    route(
      {
        id: 'listUsers',
        method: 'GET',
        path: '/admin/users',
        dialect: 'nullptr',
        auth: 'admin',
        summary: 'Accounts newest first; `q` a username or email prefix, `role`, `disabled=true|false`.',
        query: UserListQuery,
        response: { status: 200, body: z.object({ users: z.array(AdminUserListingSchema), next_cursor: Cursor }) },
      },
      async ({ req, caller, query }) => {
        noteRead(req, caller, 'list_users')
        const page = await listUsers(store, query, now(), liveness.liveSince(now()))
        return { result: { users: page.rows.map(toAdminUserListing), next_cursor: encodeCursor(page.next) } }
      },
    ),
    route(
      {
        id: 'createUser',
        method: 'POST',
        path: '/admin/users',
        dialect: 'nullptr',
        auth: 'admin',
        summary: 'Creates an account; without `password` one is generated and returned in this answer only.',
        body: AdminCreateUserBody,
        response: {
          status: 201,
          body: z.object({ user_id: z.string(), username: z.string(), role: z.enum(['user', 'admin']), password: z.string().optional() }),
        },
      },
      async ({ req, caller, body }) => {
        const { user, generated } = await createUserAsAdmin(accounts, body)
        await audit(req, caller, 'create_user', user.username, { user_id: user.id, role: user.role, password_generated: generated !== null })
        return { result: { user_id: user.id, username: user.username, role: user.role, ...(generated === null ? {} : { password: generated }) } }
      },
    ),
    route(
      {
        id: 'resetUserPassword',
        method: 'POST',
        path: '/admin/users/:username/password',
        dialect: 'nullptr',
        auth: 'admin',
        summary: 'Sets a new password (generated and returned once when omitted); every session of the user is revoked (4501).',
        body: AdminPasswordBody,
        response: { status: 200, body: z.object({ password: z.string().optional() }) },
      },
      async ({ req, caller, params, body }) => {
        const done = await resetPasswordAsAdmin(store, accounts, params.username ?? '', body.password)
        if (!done) throw UnknownUser()
        await audit(req, caller, 'reset_password', done.user.username, {
          user_id: done.user.id,
          revoked: done.revoked,
          password_generated: done.generated !== null,
        })
        return { result: done.generated === null ? {} : { password: done.generated } }
      },
    ),
    route(
      {
        id: 'setUserRole',
        method: 'PUT',
        path: '/admin/users/:username/role',
        dialect: 'nullptr',
        auth: 'admin',
        summary: 'Sets the role (`user` or `admin`); 409 LAST_ADMIN when it would demote the last enabled admin.',
        body: RoleBody,
        response: { status: 200, body: Empty },
      },
      async ({ req, caller, params, body }) => {
        const user = await setRoleAsAdmin(store, accounts, params.username ?? '', body.role)
        if (!user) throw UnknownUser()
        await audit(req, caller, body.role === 'admin' ? 'set_role_admin' : 'set_role_user', user.username, { user_id: user.id })
        return { result: {} }
      },
    ),
    route(
      {
        id: 'deleteUser',
        method: 'DELETE',
        path: '/admin/users/:username',
        dialect: 'nullptr',
        auth: 'admin',
        summary: 'Deletes the account and its sessions (live sockets close with 4501 on every node); the username is free again.',
        response: { status: 200, body: z.object({ revoked: z.number().int() }) },
      },
      async ({ req, caller, params }) => {
        const done = await deleteUserAsAdmin(store, accounts, params.username ?? '')
        if (!done) throw UnknownUser()
        await audit(req, caller, 'delete_user', done.user.username, { user_id: done.user.id, revoked: done.revoked })
        return { result: { revoked: done.revoked } }
      },
    ),
    route(
      {
        id: 'revokeUserSessions',
        method: 'DELETE',
        path: '/admin/users/:username/sessions',
        dialect: 'nullptr',
        auth: 'admin',
        summary: 'Revokes every live session of the user (sockets close with 4501); the account stays enabled.',
        response: { status: 200, body: z.object({ revoked: z.number().int() }) },
      },
      async ({ req, caller, params }) => {
        const done = await revokeUserSessionsAsAdmin(store, sessions, params.username ?? '')
        if (!done) throw UnknownUser()
        await audit(req, caller, 'revoke_user_sessions', done.user.username, { user_id: done.user.id, revoked: done.revoked })
        return { result: { revoked: done.revoked } }
      },
    ),
    route(
      {
        id: 'listAudit',
        method: 'GET',
        path: '/admin/audit',
        dialect: 'nullptr',
        auth: 'admin',
        summary: 'Every operator action (HTTP, service token, CLI), newest first.',
        query: AuditQuery,
        response: { status: 200, body: z.object({ entries: z.array(AuditEntrySchema), next_cursor: Cursor }) },
      },
      async ({ req, caller, query }) => {
        noteRead(req, caller, 'list_audit')
        const page = await listAudit(store, query)
        return { result: { entries: page.rows.map(toAuditEntry), next_cursor: encodeCursor(page.next) } }
      },
    ),
    route(
      {
        id: 'listNodes',
        method: 'GET',
        path: '/admin/nodes',
        dialect: 'nullptr',
        auth: 'admin',
        summary: 'The live gateway nodes and their connection counts, by id.',
        response: { status: 200, body: z.object({ nodes: z.array(NodeViewSchema) }) },
      },
      async ({ req, caller }) => {
        noteRead(req, caller, 'list_nodes')
        return { result: { nodes: (await listLiveNodes(store, liveness.liveSince(now()))).map(toNodeView) } }
      },
    ),
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
        if (!user) throw UnknownUser()
        const delivered = await deliverer.deliver(user.id, body.data)
        // The payload is the backend's business: never logged, only that a push happened.
        log.info({ event: 'push', user_id: user.id, delivered, by: caller.kind }, 'event pushed')
        return { result: { delivered } }
      },
    ),
  ]
}
