import type { Logger } from 'pino'
import type { AccountService } from '../../accounts/accounts.js'
import type { SessionService } from '../../auth/sessions.js'
import type { Config } from '../../config.js'
import type { Limits } from '../../limits/limits.js'
import type { Metrics } from '../../metrics.js'
import type { Store } from '../../store/types.js'
import type { Guards } from '../guards.js'

/** What every route group is built from. */
export interface RouteDeps {
  config: Config
  store: Store
  sessions: SessionService
  accounts: AccountService
  guards: Guards
  limits: Limits
  log: Logger
  now: () => number
  metrics: Metrics
}
