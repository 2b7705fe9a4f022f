import type { Config } from '../config.js'
import { ApiError } from '../errors.js'
import type { LimiterBackend } from './backend.js'
import { clientKey } from './client-key.js'
import { createLimiter, type Limiter, type LimitDecision } from './limiter.js'

/** Every abuse limit of a node, built once per app from config and one backend. */
export interface Limits {
  login: {
    /**
     * Counts a login attempt that passed the cheap checks, before any bcrypt work: per client IP,
     * then per account (`user:<name>` or `email:<address>`). Throws RATE_LIMITED with Retry-After.
     */
    attempt(ip: string, account: string): Promise<void>
    /** Clears the account's counter after a correct password, so a user's own logins never lock it. */
    succeeded(account: string): Promise<void>
  }
  register: {
    /** Counts a registration from this client IP. Throws RATE_LIMITED with Retry-After. */
    attempt(ip: string): Promise<void>
  }
  /** Per-IP WebSocket upgrade rate for the gateway: `await limits.upgrade.consume(ip)`. */
  upgrade: { consume(ip: string): Promise<LimitDecision> }
}

/** Throws 429 RATE_LIMITED (with the seconds to wait) unless the decision lets the request through. */
function enforce(decision: LimitDecision): void {
  if (!decision.ok) throw new ApiError('RATE_LIMITED', undefined, decision.retryAfterSec)
}

/** Builds the login, registration and upgrade limits from config on one backend. */
export function createLimits(config: Config['limits'], backend: LimiterBackend): Limits {
  const loginPerIp: Limiter = createLimiter(backend, { keyPrefix: 'login-ip', points: config.loginPerIpPerMin, durationSec: 60 })
  const loginPerAccount = createLimiter(backend, { keyPrefix: 'login-account', points: config.loginPerAccountPerMin, durationSec: 60 })
  const registerPerIp = createLimiter(backend, { keyPrefix: 'register-ip', points: config.registerPerIpPerHour, durationSec: 3600 })
  const upgradePerIp = createLimiter(backend, { keyPrefix: 'upgrade-ip', points: config.upgradesPerIpPerMin, durationSec: 60 })
  return {
    login: {
      async attempt(ip, account) {
        // The IP is counted first: an address over its limit cannot spend a victim account's budget.
        enforce(await loginPerIp.consume(clientKey(ip)))
        enforce(await loginPerAccount.consume(account))
      },
      succeeded: (account) => loginPerAccount.reset(account),
    },
    register: {
      async attempt(ip) {
        enforce(await registerPerIp.consume(clientKey(ip)))
      },
    },
    upgrade: { consume: (ip) => upgradePerIp.consume(clientKey(ip)) },
  }
}

/** The per-account key of a login: the normalized username, or the lowercased email. */
export const accountKey = (who: { username: string } | { email: string }): string => ('username' in who ? `user:${who.username}` : `email:${who.email}`)
