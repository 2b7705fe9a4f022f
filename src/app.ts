import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Logger } from 'pino'
import { createPasswordHasher, type PasswordHasher } from './auth/passwords.js'
import { SessionService } from './auth/sessions.js'
import { LocalBus } from './bus/local.js'
import type { Bus } from './bus/types.js'
import type { Config } from './config.js'
import { createGateway, type Gateway } from './gateway/gateway.js'
import type { GatewayObserver } from './gateway/observer.js'
import { createGuards } from './http/guards.js'
import { createHttpHandler } from './http/handler.js'
import { Router } from './http/router.js'
import type { RouteDeps } from './http/routes/deps.js'
import { dialogramRoutes } from './http/routes/dialogram.js'
import { nullptrAccountRoutes } from './http/routes/nullptr-accounts.js'
import { nullptrSessionRoutes } from './http/routes/nullptr-sessions.js'
import { serviceRoutes } from './http/routes/service.js'
import type { Store } from './store/types.js'

export interface AppDeps {
  config: Config
  store: Store
  log: Logger
  bus?: Bus
  hasher?: PasswordHasher
  now?: () => number
  /** Metrics hooks of the WebSocket gateway (default: none). */
  gatewayObserver?: GatewayObserver
}

export interface App {
  server: Server
  store: Store
  sessions: SessionService
  bus: Bus
  /** `GET /ws`: live connections (`gateway.registry`), `gateway.flush()` of connection rows. */
  gateway: Gateway
  /** Listens on config.port/host (0 → a free port) and resolves with the address. */
  listen(): Promise<AddressInfo>
  /**
   * SIGTERM path: refuse new work (HTTP and upgrades: 503), close sockets with 1001, finish
   * in-flight requests, remove this node's connection rows, close everything. Idempotent.
   */
  shutdown(): Promise<void>
}

/** Wires store, password pool, session service, routes and the HTTP server. */
export function createApp(deps: AppDeps): App {
  const { config, store, log } = deps
  const now = deps.now ?? Date.now
  const bus = deps.bus ?? new LocalBus()
  const hasher =
    deps.hasher ?? createPasswordHasher({ cost: config.bcryptCost, threads: config.hashWorkers, maxQueue: config.hashQueueMax })
  const sessions = new SessionService({
    store,
    hasher,
    now,
    sessionTtlMs: config.sessionTtlMs,
    onRevoked: (sessionIds, reason) => {
      log.info({ event: 'sessions_revoked', reason, count: sessionIds.length, session_ids: sessionIds }, 'sessions revoked')
      bus.publish({ type: 'sessions_revoked', sessionIds, reason }).catch((err) => log.error({ err }, 'could not publish revocation'))
    },
  })
  let draining = false
  const routeDeps: RouteDeps = { config, store, sessions, guards: createGuards(sessions, config.serviceToken), log, now }
  const router = new Router([
    ...serviceRoutes(() => draining),
    ...nullptrAccountRoutes(routeDeps),
    ...nullptrSessionRoutes(routeDeps),
    ...dialogramRoutes(routeDeps),
  ])

  const handle = createHttpHandler({ router, log, trustProxy: config.trustProxy })
  const server = createServer({ maxHeaderSize: 16 * 1024, requestTimeout: 30_000, headersTimeout: 10_000 }, (req, res) => {
    if (draining) res.setHeader('connection', 'close')
    void handle(req, res)
  })
  server.keepAliveTimeout = 5_000
  const gateway = createGateway({ config, store, sessions, bus, log, now, observer: deps.gatewayObserver })
  server.on('upgrade', gateway.handleUpgrade)

  let shuttingDown: Promise<void> | undefined
  async function shutdown(): Promise<void> {
    draining = true
    const closed = new Promise<void>((resolve) => server.close(() => resolve()))
    server.closeIdleConnections()
    const deadline = setTimeout(() => server.closeAllConnections(), config.shutdownGraceMs)
    await gateway.close()
    await closed
    clearTimeout(deadline)
    await hasher.close()
    await bus.close()
    await store.close()
    log.info({ event: 'shutdown' }, 'stopped')
  }

  return {
    server,
    store,
    sessions,
    bus,
    gateway,
    listen: async () => {
      await gateway.start()
      return new Promise((resolve, reject) => {
        server.once('error', reject)
        server.listen(config.port, config.host, () => {
          server.off('error', reject)
          resolve(server.address() as AddressInfo)
        })
      })
    },
    shutdown: () => (shuttingDown ??= shutdown()),
  }
}
