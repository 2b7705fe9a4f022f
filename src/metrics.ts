import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client'

/**
 * Close codes of the contract that get their own label value; any other code a peer sends is
 * counted as `other`, so a client cannot grow the label set.
 */
const KNOWN_CLOSE_CODES = new Set([1000, 1001, 1005, 1006, 1007, 1008, 1009, 1011, 4000, 4500, 4501, 4502])

/** Distinct values one free-text label may take before further ones are counted as `other`. */
const MAX_LABEL_VALUES = 32
const LABEL_VALUE = /^[a-z0-9_]{1,40}$/

/** Lowercases a label value and folds unknown shapes, and values past the cap, into `other`. */
function boundedLabel(seen: Set<string>) {
  return (raw: string): string => {
    const value = raw.toLowerCase()
    if (!LABEL_VALUE.test(value)) return 'other'
    if (seen.has(value)) return value
    if (seen.size >= MAX_LABEL_VALUES) return 'other'
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
  /** One WebSocket handshake and how it ended (`ok`, or the refusal's error code). */
  handshake(result: string): void
  connectionOpened(): void
  connectionClosed(code: number): void
  /** One login attempt in either dialect. */
  login(kind: string, result: string): void
  /** Sessions revoked, by reason. */
  revoked(reason: string, count: number): void
  /** One operator action (a change, not a listing), by action and where it came from (`http`, `service`, `cli`). */
  operatorAction(action: string, via: string): void
  /** An error escaped a request or upgrade handler and the backstop answered 500 (a bug: alert on it). */
  unhandledError(site: string): void
  /** Where the login queue depth is read on each scrape (the password pool). */
  readLoginQueueFrom(read: () => number): void
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
  let readQueue: () => number = () => 0
  new Gauge({
    name: 'chatgate_login_queue_depth',
    help: 'Password hashing tasks waiting for a worker.',
    registers,
    collect() {
      this.set(readQueue())
    },
  })

  // Series that exist from the first scrape, so rates and alerts work before the first event.
  handshakes.inc({ result: 'ok' }, 0)
  for (const site of ['request', 'upgrade']) unhandled.inc({ site }, 0)
  for (const kind of ['user', 'backoffice']) logins.inc({ kind, result: 'ok' }, 0)

  const handshakeResult = boundedLabel(new Set())
  const loginResult = boundedLabel(new Set())
  const reasonLabel = boundedLabel(new Set())
  const actionLabel = boundedLabel(new Set())
  const viaLabel = boundedLabel(new Set())

  return {
    registry,
    contentType: registry.contentType,
    handshake: (result) => handshakes.inc({ result: handshakeResult(result) }),
    connectionOpened: () => connections.inc(),
    connectionClosed(code) {
      connections.dec()
      closed.inc({ code: KNOWN_CLOSE_CODES.has(code) ? String(code) : 'other' })
    },
    login: (kind, result) => logins.inc({ kind: kind === 'backoffice' ? 'backoffice' : 'user', result: loginResult(result) }),
    revoked(reason, count) {
      if (count > 0) revocations.inc({ reason: reasonLabel(reason) }, count)
    },
    operatorAction: (action, via) => operatorActions.inc({ action: actionLabel(action), via: viaLabel(via) }),
    unhandledError: (site) => unhandled.inc({ site: site === 'upgrade' ? 'upgrade' : 'request' }),
    readLoginQueueFrom(read) {
      readQueue = read
    },
    render: () => registry.metrics(),
  }
}
