import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client'

/**
 * Close codes of the contract that get their own label value; any other code a peer sends is
 * counted as `other`, so a client cannot grow the label set.
 */
const KNOWN_CLOSE_CODES = new Set([1000, 1001, 1005, 1006, 1007, 1008, 1009, 1011, 4000, 4500, 4501, 4502])

/** Distinct values one free-text label may take before further ones are counted as `other`. */
const MAX_LABEL_VALUES = 32
const LABEL_VALUE = /^[a-z0-9_]{1,40}$/

/** Lowercases a label value and folds unknown shapes, and values past the cap, into `other`. */
function boundedLabel(seen: Set<string>, max = MAX_LABEL_VALUES) {
  return (raw: string): string => {
    const value = raw.toLowerCase()
    if (!LABEL_VALUE.test(value)) return 'other'
    if (seen.has(value)) return value
    if (seen.size >= max) return 'other'
    seen.add(value)
    return value
  }
}

/**
 * The node's Prometheus metrics on a registry of its own (one per app, so several apps in one
 * process never clash). The gateway reports through `handshake`, `connectionOpened` and
 * `connectionClosed`; the session service through `login` and `revoked`.
 */
export interface Metrics {
  readonly registry: Registry
  /** One WebSocket handshake, how it ended (`ok`, or the refusal's error code) and how long it took (upgrade request → welcome sent). */
  handshake(result: string, seconds: number): void
  connectionOpened(): void
  connectionClosed(code: number): void
  /** One login attempt in either dialect and how long it took. */
  login(kind: string, result: string, seconds?: number): void
  /** One HTTP answer: the route's declared id (never the raw URL), its status, its duration. */
  httpRequest(route: string, status: number, seconds: number): void
  /** A revoked socket closed: seconds from the revocation (on any node) to the close. */
  revocationClosed(seconds: number): void
  /** Sessions revoked, by reason. */
  revoked(reason: string, count: number): void
  /** One operator action (a change, not a listing), by action and where it came from (`http`, `service`, `cli`). */
  operatorAction(action: string, via: string): void
  /** An error escaped a request or upgrade handler and the backstop answered 500 (a bug: alert on it). */
  unhandledError(site: string): void
  /** Where the login queue depth is read on each scrape (the password pool). */
  readLoginQueueFrom(read: () => number): void
  /** Where the count of bus messages dropped for age is read on each scrape (the bus). */
  readBusStaleDropsFrom(read: () => number): void
  /** The Prometheus text exposition of every metric. */
  render(): Promise<string>
  readonly contentType: string
}

/** Builds the metrics of one app: chatgate's own plus prom-client's process and event-loop metrics. */
export function createMetrics(): Metrics {
  const registry = new Registry()
  // Includes nodejs_eventloop_lag_seconds and the p50/p90/p99 of perf_hooks.monitorEventLoopDelay.
  collectDefaultMetrics({ register: registry })
  const registers = [registry]

  const connections = new Gauge({ name: 'chatgate_connections', help: 'Live WebSocket connections on this node.', registers })
  const closed = new Counter({
    name: 'chatgate_connections_closed_total',
    help: 'WebSocket connections closed, by close code.',
    labelNames: ['code'],
    registers,
  })
  const handshakes = new Counter({
    name: 'chatgate_handshakes_total',
    help: 'WebSocket handshakes, by result (ok or the refusal error code).',
    labelNames: ['result'],
    registers,
  })
  const logins = new Counter({
    name: 'chatgate_logins_total',
    help: 'Login attempts in both dialects, by session kind and result.',
    labelNames: ['kind', 'result'],
    registers,
  })
  const revocations = new Counter({
    name: 'chatgate_sessions_revoked_total',
    help: 'Sessions revoked, by reason.',
    labelNames: ['reason'],
    registers,
  })
  const operatorActions = new Counter({
    name: 'chatgate_operator_actions_total',
    help: 'Operator actions (changes), by action and by where they came from: http (backoffice session), service (token), cli.',
    labelNames: ['action', 'via'],
    registers,
  })
  const unhandled = new Counter({
    name: 'chatgate_unhandled_errors_total',
    help: 'Errors that escaped a request or upgrade handler and were answered 500 by the backstop.',
    labelNames: ['site'],
    registers,
  })
  // Histograms operators expect (docs/grafana/chatgate.json is built on exactly these). Labels are
  // bounded: route ids come from the route table, statuses from the codes the server sends.
  const httpDuration = new Histogram({
    name: 'chatgate_http_request_duration_seconds',
    help: 'HTTP requests by route id (none when no route matched) and status: time from the request to the answer.',
    labelNames: ['route', 'status'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers,
  })
  const loginDuration = new Histogram({
    name: 'chatgate_login_duration_seconds',
    help: 'Login attempts (both dialects) by session kind and result: time including the bcrypt compare.',
    labelNames: ['kind', 'result'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers,
  })
  const handshakeDuration = new Histogram({
    name: 'chatgate_handshake_duration_seconds',
    help: 'WebSocket handshakes by result: time from the upgrade request to the welcome frame sent (or the refusal).',
    labelNames: ['result'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers,
  })
  const revocationClose = new Histogram({
    name: 'chatgate_revocation_close_seconds',
    help: 'Time from a session revocation (on any node) to the close of each of its sockets on this node.',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  })
  let readQueue: () => number = () => 0
  new Gauge({
    name: 'chatgate_login_queue_depth',
    help: 'Password hashing tasks waiting for a worker.',
    registers,
    collect() {
      this.set(readQueue())
    },
  })
  let readStaleDrops: () => number = () => 0
  new Counter({
    name: 'chatgate_bus_stale_dropped_total',
    help: 'Messages from other nodes (pushes, revocations, answers) dropped because they arrived older than BUS_MAX_AGE_MS.',
    registers,
    collect() {
      this.reset()
      this.inc(readStaleDrops())
    },
  })

  // Series that exist from the first scrape, so rates and alerts work before the first event.
  handshakes.inc({ result: 'ok' }, 0)
  handshakeDuration.zero({ result: 'ok' })
  for (const kind of ['user', 'backoffice']) loginDuration.zero({ kind, result: 'ok' })
  httpDuration.zero({ route: 'health', status: '200' })
  operatorActions.inc({ action: 'create_user', via: 'http' }, 0)
  for (const site of ['request', 'upgrade']) unhandled.inc({ site }, 0)
  for (const kind of ['user', 'backoffice']) logins.inc({ kind, result: 'ok' }, 0)

  const handshakeResult = boundedLabel(new Set())
  const loginResult = boundedLabel(new Set())
  const reasonLabel = boundedLabel(new Set())
  const actionLabel = boundedLabel(new Set())
  const viaLabel = boundedLabel(new Set())
  // Route ids are camelCase from the route table; lowercased here and bounded like every label.
  const routeIds = boundedLabel(new Set(), 256)
  const routeLabel = (id: string) => routeIds(id.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`))

  return {
    registry,
    contentType: registry.contentType,
    handshake(result, seconds) {
      const label = handshakeResult(result)
      handshakes.inc({ result: label })
      handshakeDuration.observe({ result: label }, seconds)
    },
    connectionOpened: () => connections.inc(),
    connectionClosed(code) {
      connections.dec()
      closed.inc({ code: KNOWN_CLOSE_CODES.has(code) ? String(code) : 'other' })
    },
    login(kind, result, seconds) {
      const labels = { kind: kind === 'backoffice' ? 'backoffice' : 'user', result: loginResult(result) }
      logins.inc(labels)
      if (seconds !== undefined) loginDuration.observe(labels, seconds)
    },
    httpRequest: (route, status, seconds) => httpDuration.observe({ route: routeLabel(route), status: String(status) }, seconds),
    revocationClosed: (seconds) => revocationClose.observe(seconds),
    revoked(reason, count) {
      if (count > 0) revocations.inc({ reason: reasonLabel(reason) }, count)
    },
    operatorAction: (action, via) => operatorActions.inc({ action: actionLabel(action), via: viaLabel(via) }),
    unhandledError: (site) => unhandled.inc({ site: site === 'upgrade' ? 'upgrade' : 'request' }),
    readLoginQueueFrom(read) {
      readQueue = read
    },
    readBusStaleDropsFrom(read) {
      readStaleDrops = read
    },
    render: () => registry.metrics(),
  }
}
