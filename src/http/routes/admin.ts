import { parseUsername } from '../../auth/rules.js'
import { ApiError } from '../../errors.js'
import { listLiveDevices, listSessions, parseLimit, revokeSessionAsAdmin, setUserDisabled, type ListQuery } from '../../operators/operators.js'
import { decodeCursor, encodeCursor, toAdminSessionView, toAdminUserView, toDeviceView } from '../../views.js'
import type { AdminCaller } from '../guards.js'
import type { HttpContext, Route } from '../router.js'
import type { RouteDeps } from './deps.js'

/** One query parameter, given at most once (a repeated one is a 400, never a silent pick). */
function single(query: URLSearchParams, name: string): string | null {
  const values = query.getAll(name)
  if (values.length > 1) throw new ApiError('BAD_REQUEST', `${name} may be given once.`)
  return values[0] ?? null
}

/** `username`, `limit` and `cursor` of a listing; 400 on a bad limit or a cursor we did not issue. */
function readListQuery(query: URLSearchParams): ListQuery {
  const limit = parseLimit(single(query, 'limit'))
  if (limit === null) throw new ApiError('BAD_REQUEST', 'limit must be a positive integer.')
  const cursor = decodeCursor(single(query, 'cursor'))
  if (cursor === undefined) throw new ApiError('BAD_REQUEST', 'cursor is not valid.')
  const rawName = single(query, 'username')
  const out: ListQuery = { limit }
  if (cursor) out.cursor = cursor
  if (rawName !== null && rawName !== '') {
    out.username = parseUsername(rawName)
  }
  return out
}

/** `state=all` (default) or `state=active` for the sessions listing. */
function readActiveOnly(query: URLSearchParams): boolean {
  const state = single(query, 'state') ?? 'all'
  if (state !== 'all' && state !== 'active') throw new ApiError('BAD_REQUEST', 'state must be all or active.')
  return state === 'active'
}

/** Who did it, for the audit line: never a token. */
const actorOf = (caller: AdminCaller) =>
  caller.kind === 'service'
    ? { actor: 'service' }
    : { actor: 'admin', actor_user_id: caller.auth.user.id, actor_session_id: caller.auth.session.id }

/** Operators' routes (`/admin/*`): a backoffice session of an admin or the service token. */
export function adminRoutes({ config, store, sessions, accounts, guards, log, now, metrics }: RouteDeps): Route[] {
  /** The audit line of one admin call: reads at debug (a polling backend must not flood the log), changes at info and counted. */
  function audit(ctx: HttpContext, caller: AdminCaller, action: string, details: Record<string, unknown> = {}, change = true) {
    const via = caller.kind === 'service' ? 'service' : 'http'
    const line = { event: 'admin_action', action, ...actorOf(caller), via, ip: ctx.client.ip, ...details }
    if (!change) return log.debug(line, 'admin action')
    log.info(line, 'admin action')
    metrics.operatorAction(action, via)
  }

  async function setDisabled(ctx: HttpContext, disabled: boolean) {
    const caller = await guards.requireAdmin(ctx)
    const done = await setUserDisabled(store, accounts, ctx.params.username ?? '', disabled)
    if (!done) throw new ApiError('NOT_FOUND', 'No such user.')
    audit(ctx, caller, disabled ? 'disable_user' : 'enable_user', {
      user_id: done.user.id,
      username: done.user.username,
      revoked: done.revoked,
    })
    return { result: { user: toAdminUserView(done.user), revoked: done.revoked } }
  }

  return [
    {
      method: 'GET',
      path: '/admin/devices',
      dialect: 'nullptr',
      async handle(ctx) {
        audit(ctx, await guards.requireAdmin(ctx), 'list_devices', {}, false)
        const page = await listLiveDevices(store, readListQuery(ctx.query), now(), config.nodeHeartbeatMs)
        return { result: { devices: page.rows.map(toDeviceView), next_cursor: encodeCursor(page.next) } }
      },
    },
    {
      method: 'GET',
      path: '/admin/sessions',
      dialect: 'nullptr',
      async handle(ctx) {
        audit(ctx, await guards.requireAdmin(ctx), 'list_sessions', {}, false)
        const at = now()
        const page = await listSessions(store, { ...readListQuery(ctx.query), activeOnly: readActiveOnly(ctx.query) }, at, config.nodeHeartbeatMs)
        return {
          result: {
            sessions: page.rows.map((r) => toAdminSessionView(r.session, r.connections, at)),
            next_cursor: encodeCursor(page.next),
          },
        }
      },
    },
    {
      method: 'DELETE',
      path: '/admin/sessions/:session_id',
      dialect: 'nullptr',
      async handle(ctx) {
        const caller = await guards.requireAdmin(ctx)
        const done = await revokeSessionAsAdmin(store, sessions, ctx.params.session_id ?? '')
        if (!done) throw new ApiError('NOT_FOUND', 'No such session.')
        audit(ctx, caller, 'revoke_session', { session_id: done.session.id, user_id: done.session.userId, revoked: done.revoked })
        return { result: { revoked: done.revoked } }
      },
    },
    {
      method: 'POST',
      path: '/admin/users/:username/disable',
      dialect: 'nullptr',
      handle: (ctx) => setDisabled(ctx, true),
    },
    {
      method: 'POST',
      path: '/admin/users/:username/enable',
      dialect: 'nullptr',
      handle: (ctx) => setDisabled(ctx, false),
    },
  ]
}
