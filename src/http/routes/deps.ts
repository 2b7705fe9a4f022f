import type { Logger } from 'pino'
import type { AccountService } from '../../accounts/accounts.js'
import type { SignupFlow } from '../../accounts/signup-flow.js'
import type { LoginFlow } from '../../auth/login-flow.js'
import type { SessionService } from '../../auth/sessions.js'
import type { LivenessWindow } from '../../cluster/liveness.js'
import type { EventDeliverer } from '../../cluster/push.js'
import type { Config } from '../../config.js'
import type { Limits } from '../../limits/limits.js'
import type { Metrics } from '../../metrics.js'
import type { AuditTrail } from '../../operators/audit.js'
import type { Store } from '../../store/types.js'

/** What every route group is built from. */
export interface RouteDeps {
  config: Config
  store: Store
  sessions: SessionService
  accounts: AccountService
  /** The one login flow of both dialects. */
  login: LoginFlow
  /** The one signup flow of both dialects. */
  signup: SignupFlow
  limits: Limits
  log: Logger
  now: () => number
  metrics: Metrics
  /** Server push to live devices, on any node. */
  deliverer: EventDeliverer
  /** Where operator actions are recorded (store row + info line). */
  audit: AuditTrail
  /** True while the node drains (SIGTERM). */
  isDraining: () => boolean
  /** Which nodes count as live (listings, counts), this node's blind spells left out. */
  liveness: LivenessWindow
  /** What `/readyz` reports: whether the store and the bus (null: none, one node) are reachable. */
  readiness: () => { store: 'up' | 'down'; bus: 'up' | 'down' | 'off' }
}
