import { ApiError } from '../../errors.js'
import type { Route } from '../router.js'

/** `/healthz`: 200 `{"ok":true}` (bare, for load balancers) while serving; 503 SHUTTING_DOWN while draining. */
export function serviceRoutes(isDraining: () => boolean): Route[] {
  return [
    {
      method: 'GET',
      path: '/healthz',
      dialect: 'nullptr',
      async handle() {
        if (isDraining()) throw new ApiError('SHUTTING_DOWN')
        return { text: '{"ok":true}', contentType: 'application/json; charset=utf-8' }
      },
    },
    {
      // Upgrades never reach the request listener: a plain GET here is a client that forgot to upgrade.
      method: 'GET',
      path: '/ws',
      dialect: 'nullptr',
      async handle() {
        throw new ApiError('BAD_REQUEST', 'GET /ws is a WebSocket upgrade: send Connection: Upgrade and Upgrade: websocket.')
      },
    },
  ]
}
