import { z } from 'zod'
import { ApiError } from '../../errors.js'
import { findUser } from '../../operators/operators.js'
import type { EventDeliverer } from '../../cluster/push.js'
import { parseWith, readJson } from '../body.js'
import type { Route } from '../router.js'
import type { RouteDeps } from './deps.js'

/** `{data}`: any JSON value, `null` included; a missing key is refused (the body as a whole is ≤ 16 KiB). */
const PushBody = z.object({ data: z.unknown() })

/**
 * `POST /admin/users/:username/events`: a chat backend (service token) or an operator (backoffice
 * session) pushes `{"type":"event","data":…}` to every live device of the user; the result says
 * how many devices got it.
 */
export function pushRoutes({ store, guards, log }: RouteDeps, deliverer: EventDeliverer): Route[] {
  return [
    {
      method: 'POST',
      path: '/admin/users/:username/events',
      dialect: 'nullptr',
      async handle(ctx) {
        const caller = await guards.requireAdmin(ctx)
        const body = parseWith(PushBody, await readJson(ctx.req))
        const user = await findUser(store, ctx.params.username ?? '')
        if (!user) throw new ApiError('NOT_FOUND', 'No such user.')
        const delivered = await deliverer.deliver(user.id, body.data)
        // The payload is the backend's business: never logged, only that a push happened.
        log.info({ event: 'push', user_id: user.id, delivered, by: caller.kind }, 'event pushed')
        return { result: { delivered } }
      },
    },
  ]
}
