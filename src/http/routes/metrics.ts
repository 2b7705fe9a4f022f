import { secretsEqual } from '../../auth/tokens.js'
import { ApiError } from '../../errors.js'
import { readAuthorization } from '../../request/authorization.js'
import type { Metrics } from '../../metrics.js'
import type { HttpContext, Route } from '../router.js'

/**
 * `GET /metrics`: Prometheus text. Open by default (scrapers sit on the private network);
 * with METRICS_TOKEN set, only `Authorization: Bearer <METRICS_TOKEN>` may read it.
 */
export function metricsRoutes(metrics: Metrics, token: string | undefined): Route[] {
  const authorize = ({ req }: HttpContext) => {
    if (token === undefined) return
    const authorization = readAuthorization(req.headers.authorization)
    if (authorization.scheme !== 'bearer' || authorization.token === null || !secretsEqual(authorization.token, token)) throw new ApiError('UNAUTHORIZED', 'A metrics bearer token is required.')
  }
  return [
    {
      method: 'GET',
      path: '/metrics',
      dialect: 'nullptr',
      async handle(ctx) {
        authorize(ctx)
        return { text: await metrics.render(), contentType: metrics.contentType }
      },
    },
  ]
}
