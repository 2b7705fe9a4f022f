import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import type { Logger } from 'pino'
import { createBackstop } from './backstop.js'
import { createPasswordHasher, type PasswordHasher } from './auth/passwords.js'
import { AccountService } from './accounts/accounts.js'
import { SessionService } from './auth/sessions.js'
import { LocalBus } from './cluster/local-bus.js'
import type { Bus } from './cluster/bus.js'
import { createLivenessWindow } from './cluster/liveness.js'
import { DependencyHealth } from './health/dependency-health.js'
import { guardStore } from './store/guarded.js'
import type { Config } from './config.js'
import { ApiError } from './errors.js'
import { createGateway, type Gateway } from './gateway/gateway.js'
import { writeRefusal } from './gateway/refuse.js'
import type { GatewayObserver } from './gateway/observer.js'
import { answerClientError } from './http/client-error.js'
import { createCorsPolicy } from './http/cors.js'
import { createHttpHandler } from './http/handler.js'
import { InFlight } from './http/in-flight.js'
import type { Route } from './http/route.js'
import { Router } from './http/router.js'
import { adminRoutes } from './http/routes/admin.js'
import type { RouteDeps } from './http/routes/deps.js'
import { dialogramRoutes } from './http/routes/dialogram.js'
import { nullptrRoutes } from './http/routes/nullptr.js'
import { CLIENT_ENTRIES, serviceRoutes } from './http/routes/service.js'
import { createAuthenticator } from './http/authenticate.js'
import { buildOpenApi } from './http/openapi.js'
import { createLoginFlow } from './auth/login-flow.js'
import { createSignupFlow } from './accounts/signup-flow.js'
import { createMetrics, type Metrics } from './metrics.js'
import { memoryBackend, type LimiterBackend } from './limits/backend.js'
import { createLimits, type Limits } from './limits/limits.js'
import type { EventDeliverer } from './cluster/push.js'
import { AuditTrail } from './operators/audit.js'
import { AuditWatcher } from './operators/audit-watcher.js'
import { createLiveFeed, LIVE_FEED_PATH, type LiveFeed } from './console/live-feed.js'
import { CONSOLE_ENTRIES, consoleRoutes } from './http/routes/console.js'
import { buildWebAssets } from './web/assets.js'
import { parseRequestTarget } from './request/target.js'
import { VERSION } from './version.js'
import type { Store } from './store/types.js'

export interface AppDeps {
  config: Config
  store: Store
  log: Logger
  bus?: Bus
  hasher?: PasswordHasher
  /** One registry per app; built here when not given. */
  metrics?: Metrics
  now?: () => number
  /** Where rate-limit counters live; in memory unless given (Redis for scale-out). */
  limiterBackend?: LimiterBackend
  /** Server push to live devices; the gateway by default (its sockets, and every other node's over the bus). */
  deliverer?: EventDeliverer
  /** Metrics hooks of the WebSocket gateway (default: none). */
  gatewayObserver?: GatewayObserver
  /** Whether the store answers, fed by every store call (built here when not given). */
  storeHealth?: DependencyHealth
}

export interface App {
  server: Server
  store: Store
  sessions: SessionService
  accounts: AccountService
  bus: Bus
  metrics: Metrics
  /** Every HTTP route this node serves, as declared (the router and /openapi.json are built from them). */
  routes: readonly Route[]
  /** Abuse limits; the gateway calls `limits.upgrade.consume(ip)` before each upgrade. */
  limits: Limits
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
  const { config, log } = deps
  const now = deps.now ?? Date.now
  const bus: Bus = deps.bus ?? new LocalBus()
  const storeHealth = deps.storeHealth ?? new DependencyHealth({ name: 'store', log, now, warnEveryMs: config.dependencyWarnEveryMs })
  // Every part of the node uses the store through the guard: an outage is 503, never a hang or a 500.
  const store = guardStore(deps.store, { health: storeHealth, timeoutMs: config.storeTimeoutMs })
  const liveness = createLivenessWindow(config.nodeHeartbeatMs, storeHealth)
  const hasher =
    deps.hasher ?? createPasswordHasher({ cost: config.bcryptCost, threads: config.hashWorkers, maxQueue: config.hashQueueMax, nice: config.hashThreadNice })
  const metrics = deps.metrics ?? createMetrics()
  metrics.readLoginQueueFrom(() => hasher.queueDepth)
  metrics.readBusStaleDropsFrom(() => bus.staleDropped)
  const sessions = new SessionService({
    store,
    hasher,
    now,
    sessionTtlMs: config.sessionTtlMs,
    onLogin: (kind, result, seconds) => metrics.login(kind, result, seconds),
    onRevoked: (sessionIds, reason) => {
      metrics.revoked(reason, sessionIds.length)
      log.info({ event: 'sessions_revoked', reason, count: sessionIds.length, session_ids: sessionIds }, 'sessions revoked')
      bus.publish({ type: 'sessions_revoked', sessionIds, reason, revokedAt: now() }).catch((err) => log.error({ err }, 'could not publish revocation'))
    },
  })
  const accounts = new AccountService({ store, hasher, sessions, now })
  const limits = createLimits(config.limits, deps.limiterBackend ?? memoryBackend)
  const backstop = createBackstop(log, (site) => metrics.unhandledError(site))
  let draining = false
  const gateway = createGateway({
    config,
    store,
    sessions,
    bus,
    log,
    now,
    observer: deps.gatewayObserver ?? metrics,
    upgradeLimit: limits.upgrade,
    backstop: backstop.upgrade,
    liveness,
    storeHealth,
  })
  const feed: LiveFeed = createLiveFeed({ sessions, store, now, bus, log })
  const auditWatcher = new AuditWatcher({
    store,
    log,
    now,
    nodeId: gateway.nodeId,
    // The CLI's actions when no bus carried them: the row names the one node that counts each.
    onCount: (entry) => metrics.operatorAction(entry.action, entry.via),
    onNew: () => feed.notify('audit'),
  })
  const auditTrail = new AuditTrail({
    store,
    log,
    nodeId: gateway.nodeId,
    now,
    onRecorded: (entry) => {
      auditWatcher.markOwn(entry)
      feed.notify('audit')
    },
  })
  // The console's script and styles and /client.js, built from src/ while the node starts (listen() waits for them).
  const consoleAssets = buildWebAssets({ ...CONSOLE_ENTRIES, ...CLIENT_ENTRIES })
  consoleAssets.catch(() => undefined)
  const routeDeps: RouteDeps = {
    config,
    store,
    sessions,
    accounts,
    login: createLoginFlow({ sessions, limits, log }),
    signup: createSignupFlow({ accounts, limits, log }),
    limits,
    log,
    now,
    metrics,
    deliverer: deps.deliverer ?? gateway,
    audit: auditTrail,
    isDraining: () => draining,
    liveness,
    readiness: () => ({ store: storeHealth.isUp ? 'up' : 'down', bus: bus.connected === undefined ? 'off' : bus.connected ? 'up' : 'down' }),
  }
  // The CLI names one live node to count each of its actions, so sums across nodes stay exact.
  bus.subscribe((event) => {
    if (event.type !== 'operator_action' || event.countOn !== gateway.nodeId) return
    metrics.operatorAction(event.action, event.via)
    if (event.revoked) metrics.revoked(event.revoked.reason, event.revoked.count)
  })
  let openapi: Record<string, unknown> = {}
  const routes = [
    ...serviceRoutes(routeDeps, () => openapi, consoleAssets),
    ...nullptrRoutes(routeDeps),
    ...dialogramRoutes(routeDeps),
    ...adminRoutes(routeDeps),
    ...consoleRoutes(consoleAssets),
  ]
  openapi = buildOpenApi(routes, VERSION)
  const router = new Router(routes)
  const authenticate = createAuthenticator({ sessions, serviceToken: config.serviceToken, metricsToken: config.metricsToken })
  const handle = createHttpHandler({
    router,
    authenticate,
    cors: createCorsPolicy(config.allowedOrigins),
    log,
    trustProxy: config.trustProxy,
    onResponse: (route, status, seconds) => metrics.httpRequest(route, status, seconds),
    isDraining: () => draining,
  })
  const requestsBeforeDrain = new InFlight()
  const httpLimits = config.http
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    if (draining) res.setHeader('connection', 'close')
    else requestsBeforeDrain.track(res)
    handle(req, res).catch((err) => backstop.request(err, res))
  }
  const server = createServer(
    {
      maxHeaderSize: httpLimits.maxHeaderBytes,
      // The handler checks Host itself (http/header-check.ts), answering in the contract's envelope.
      requireHostHeader: false,
      headersTimeout: httpLimits.headersTimeoutMs,
      requestTimeout: httpLimits.requestTimeoutMs,
      // node checks the two timeouts above on this interval (30 s by default, which would let a
      // slow-header client hold a socket three times longer than configured).
      connectionsCheckingInterval: Math.min(1000, Math.max(50, Math.floor(httpLimits.headersTimeoutMs / 4))),
    },
    onRequest,
  )
  // An Expect other than 100-continue: served as if absent (RFC 9110 allows it), not node's bare 417
  // that skips every check and the envelope.
  server.on('checkExpectation', onRequest)
  // CONNECT (a tunnel through a proxy) is not served; node would drop the connection without a word.
  server.on('connect', (_req: IncomingMessage, socket: Duplex) => {
    // node hands the socket over without its error listener: a reset must not throw.
    socket.on('error', () => socket.destroy())
    writeRefusal(socket, new ApiError('BAD_REQUEST', 'CONNECT is not served here.'))
  })
  server.keepAliveTimeout = httpLimits.keepAliveTimeoutMs
  server.maxRequestsPerSocket = httpLimits.maxRequestsPerSocket
  server.on('clientError', answerClientError)
  server.on('upgrade', (req, socket, head) => {
    try {
      if (parseRequestTarget(req.url ?? '')?.path === LIVE_FEED_PATH) feed.handleUpgrade(req, socket, head)
      else gateway.handleUpgrade(req, socket, head)
    } catch (err) {
      backstop.upgrade(err, socket, req)
    }
  })

  let shuttingDown: Promise<void> | undefined
  /**
   * The drain keeps the listener open, so a client that connects meanwhile hears 503
   * SHUTTING_DOWN (HTTP and upgrades) instead of a refused connection, until every socket closed
   * (1001) and every request that arrived before it was answered, at most SHUTDOWN_GRACE_MS; then
   * the listener closes.
   */
  async function shutdown(): Promise<void> {
    draining = true
    // Before any await: from now on the gateway refuses upgrades with 503.
    const gatewayClosed = gateway.close()
    server.closeIdleConnections()
    const deadline = setTimeout(() => server.closeAllConnections(), config.shutdownGraceMs)
    feed.close()
    await auditWatcher.stop()
    await gatewayClosed
    await requestsBeforeDrain.done(config.shutdownGraceMs)
    const closed = new Promise<void>((resolve) => server.close(() => resolve()))
    server.closeIdleConnections()
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
    accounts,
    bus,
    metrics,
    routes,
    limits,
    gateway,
    listen: async () => {
      await consoleAssets
      await gateway.start()
      await auditWatcher.start()
      return new Promise((resolve, reject) => {
        server.once('error', reject)
        // A restarted node meets thousands of reconnects at once: Node's default backlog (511) would
        // drop their SYNs and leave them to the kernel's 1 s, 3 s, 7 s… retransmits.
        server.listen({ port: config.port, host: config.host, backlog: config.listenBacklog }, () => {
          server.off('error', reject)
          resolve(server.address() as AddressInfo)
        })
      })
    },
    shutdown: () => (shuttingDown ??= shutdown()),
  }
}
