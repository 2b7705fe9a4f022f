import type { IncomingMessage } from 'node:http'
import { hostname } from 'node:os'
import type { Duplex } from 'node:stream'
import type { Logger } from 'pino'
import { WebSocket, WebSocketServer, type RawData, type ServerOptions } from 'ws'
import type { SessionService } from '../auth/sessions.js'
import type { Bus, BusEvent } from '../cluster/bus.js'
import type { LivenessWindow } from '../cluster/liveness.js'
import type { DependencyHealth } from '../health/dependency-health.js'
import { subscribeToBus } from './bus-dispatch.js'
import type { Config } from '../config.js'
import { ApiError, toApiError } from '../errors.js'
import { clientInfo, forgetPeerName } from '../request/client-info.js'
import type { ClientInfo } from '../request/client-info.js'
import type { Limits } from '../limits/limits.js'
import type { EventDeliverer } from '../cluster/push.js'
import type { Store } from '../store/types.js'
import { CloseCode } from './close-codes.js'
import { GatewaySocket, LiveConnection, type ConnectionHooks, type EndCause } from './connection.js'
import { skipRedundantReceiverEnds } from './receiver-end.js'
import { selectSubprotocol } from './credentials.js'
import { withLocalCounts } from './device-list.js'
import { DeviceNotifier } from './device-notifier.js'
import { ExpirySweep } from './expiry-sweep.js'
import { eventFrame, welcomeFrame } from './frames.js'
import { admitNow, admitUpgrade, type Admission, type HandshakeDeps } from './handshake.js'
import { HandshakePacer } from './handshake-pacer.js'
import { Liveness } from './liveness.js'
import { handleClientMessage } from './messages.js'
import { NodePresence } from '../cluster/node-presence.js'
import { noopObserver, type GatewayObserver } from './observer.js'
import { PushDelivery } from './push-delivery.js'
import { writeRefusal } from './refuse.js'
import { Registry } from './registry.js'
import { RevocationWatcher } from './revocation-watcher.js'
import { Revocations } from './revocations.js'
import { ConnectionRowWriter } from './row-writer.js'

/** A server-initiated close waits this long for the peer's close frame before cutting the socket. */
const CLOSE_HANDSHAKE_MS = 5_000
/** A message may arrive in at most this many fragments (more → 1008). */
const MAX_FRAGMENTS = 128
/** Retry-After of an upgrade refused OVERLOADED: 1 to this many seconds, at random, so refused clients do not return together. */
const OVERLOADED_RETRY_MAX_S = 3

/** An upgrade request waiting for its turn (gateway/handshake-pacer.ts). */
interface PendingUpgrade {
  req: IncomingMessage
  socket: Duplex
  head: Buffer
  started: number
}

const overloaded = () =>
  new ApiError('OVERLOADED', 'Too many connections are being set up; retry later.', 1 + Math.floor(Math.random() * OVERLOADED_RETRY_MAX_S))

export interface GatewayDeps {
  config: Config
  store: Store
  sessions: SessionService
  bus: Bus
  log: Logger
  now: () => number
  observer?: GatewayObserver
  /** Per-IP upgrade rate, checked before any store work. */
  upgradeLimit: Limits['upgrade']
  /** Which nodes count as live and which are purged, this node's blind spells left out. */
  liveness: LivenessWindow
  /** Tells when the store is back after an outage (the node then beats at once). */
  storeHealth?: Pick<DependencyHealth, 'onRecovered'>
  /** Answers 500 and logs an error that escaped the upgrade path (default: destroy the socket). */
  backstop?: (err: unknown, socket: Duplex, req: IncomingMessage) => void
}

/**
 * The WebSocket side of a node: `GET /ws`, the live connections and their lifecycle, and server
 * push (`deliver`: this node's sockets and, over the bus, every other node's).
 */
export interface Gateway extends EventDeliverer {
  /** This node's id in the `nodes` and `connections` tables (NODE_ID, else the host name). */
  readonly nodeId: string
  readonly registry: Registry
  /** The node:http `upgrade` listener. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void
  /** Cleans rows a crashed run of this node left, starts the heartbeat and the watchers. */
  start(): Promise<void>
  /** Resolves once every connection row change so far is in the store. */
  flush(): Promise<void>
  /** flush(), then waits until no `devices` push is pending (tests). */
  settle(): Promise<void>
  /** Sends `{"type":"event","data":…}` to the user's live sockets on this node; returns how many. */
  deliverLocal(userId: string, data: unknown): number
  /** Refuses new upgrades (503) and closes every live socket with 1001; resolves when they are closed. */
  drain(): Promise<void>
  /** drain(), then stops every timer and removes this node's rows. Idempotent. */
  close(): Promise<void>
}

/** Error listener of a socket whose upgrade is being checked (ws installs its own after the upgrade). */
function destroyOnError(this: Duplex): void {
  this.destroy()
}

/** Builds the gateway; wire `handleUpgrade` to the HTTP server and call `start()` before listening. */
export function createGateway(deps: GatewayDeps): Gateway {
  const { config, store, sessions, bus, log, now, liveness: window } = deps
  const liveSince = (at: number) => window.liveSince(at)
  const observer = deps.observer ?? noopObserver
  const backstop =
    deps.backstop ??
    ((err: unknown, socket: Duplex) => {
      log.error({ err, event: 'ws_upgrade_failed' }, 'websocket upgrade failed')
      socket.destroy()
    })
  const nodeId = config.nodeId ?? hostname()
  skipRedundantReceiverEnds()
  const rows = new ConnectionRowWriter({ store, log })
  const registry = new Registry(nodeId, rows)
  const options = {
    noServer: true,
    // The registry tracks the live sockets; ws's own tracking would add a Set entry and a close
    // closure per socket.
    clientTracking: false,
    WebSocket: GatewaySocket,
    perMessageDeflate: false,
    maxPayload: config.wsMaxPayload,
    maxFragments: MAX_FRAGMENTS,
    skipUTF8Validation: false,
    closeTimeout: CLOSE_HANDSHAKE_MS,
    handleProtocols: selectSubprotocol,
  } satisfies ServerOptions<typeof GatewaySocket> & { closeTimeout: number }
  const wss = new WebSocketServer<typeof GatewaySocket>(options)
  let draining = false

  const publish = (event: BusEvent) => bus.publish(event).catch((err) => log.error({ err, event: 'bus_publish_failed', type: event.type }, 'could not publish'))
  const notifier = new DeviceNotifier({
    store,
    registry,
    log,
    now,
    liveSince,
    announce: (userIds) => publish({ type: 'devices_changed', nodeId, userIds }),
  })
  const revocations = new Revocations({ store, registry, notifier, log, now })
  const watcher = new RevocationWatcher({ store, log, now, onRevoked: (ids, times) => revocations.apply(ids, 'watcher', times) })
  const expiry = new ExpirySweep({ store, registry, log, now })
  const liveness = new Liveness({ heartbeatMs: config.heartbeatMs })
  const presence = new NodePresence({ store, log, now, nodeId, heartbeatMs: config.nodeHeartbeatMs, window, onStalled: () => registry.rewriteAll() })
  const push = new PushDelivery({
    nodeId,
    store,
    log,
    now,
    liveSince,
    publish,
    deliverLocal,
  })
  const handshakeDeps: HandshakeDeps = {
    config,
    store,
    sessions,
    registry,
    nodeId,
    now,
    isDraining: () => draining,
    upgradeLimit: deps.upgradeLimit,
    wasJustRevoked: (id) => revocations.wasJustRevoked(id),
    liveSince,
  }

  const stopWatchingStore = deps.storeHealth?.onRecovered(() => presence.beatNow()) ?? (() => undefined)
  const unsubscribe = subscribeToBus({ bus, nodeId, duplicatePolicy: config.duplicatePolicy, registry, watcher, revocations, notifier, push, log })

  /** Sends `{"type":"event","data":…}` to the user's sockets on this node; returns how many got it. */
  function deliverLocal(userId: string, data: unknown): number {
    const conns = registry.ofUser(userId)
    if (conns.length === 0) return 0
    const frame = eventFrame(data)
    let sent = 0
    for (const c of conns) if (c.send(frame)) sent++
    return sent
  }

  /**
   * `reject`: lets go of the session's claim held by this connection (a no-op when it holds none).
   * A failure is logged; the claim then lasts until this node is known dead or restarts.
   */
  function releaseClaim(sessionId: string, connectionId: string): void {
    if (config.duplicatePolicy !== 'reject') return
    store.releaseSessionClaim(sessionId, connectionId).catch((err) => {
      log.error({ err, event: 'claim_release_failed', session_id: sessionId, connection_id: connectionId }, 'could not release a session claim')
    })
  }

  function onEnd(conn: LiveConnection, code: number, cause: EndCause): void {
    registry.remove(conn)
    liveness.untrack(conn)
    releaseClaim(conn.sessionId, conn.id)
    observer.connectionClosed(code)
    if (conn.revokedAt !== null) observer.revocationClosed?.(Math.max(0, now() - conn.revokedAt) / 1000)
    log.info({ event: 'ws_close', connection_id: conn.id, session_id: conn.sessionId, user_id: conn.userId, code, cause }, 'websocket closed')
    notifier.changed(conn.userId, conn.id, 'local')
  }

  // One set of handlers for every socket (GatewaySocket calls them): no listeners or closures per connection.
  const hooks: ConnectionHooks = {
    limits: { maxBufferedBytes: config.wsMaxBufferedBytes, messagesPer10s: config.wsMessagesPer10s },
    ended: onEnd,
    error(conn: LiveConnection, err: Error): void {
      log.debug({ err, event: 'ws_error', connection_id: conn.id }, 'websocket error')
    },
    message(conn: LiveConnection, data: RawData, isBinary: boolean): void {
      try {
        handleClientMessage(conn, data, isBinary, now())
      } catch (err) {
        log.error({ err, event: 'ws_message_failed', connection_id: conn.id }, 'could not handle a message')
        conn.close('INTERNAL_ERROR')
      }
    },
  }

  /** Registers an upgraded socket, replaces the pair's older sockets, and sends the welcome. */
  function accept(ws: GatewaySocket, adm: Admission, started: number): void {
    const { session, user } = adm.auth
    if (config.duplicatePolicy === 'replace') for (const old of registry.ofSession(session.id)) old.revoke('SESSION_REPLACED')
    const conn = new LiveConnection(
      ws,
      {
        id: adm.connectionId,
        sessionId: session.id,
        userId: user.id,
        ip: registry.shareIp(adm.client.ip),
        userAgent: adm.client.userAgent,
        connectedAt: now(),
        expiresAt: session.expiresAt,
      },
      hooks,
    )
    ws.conn = conn
    registry.add(conn)
    liveness.track(conn)
    expiry.track(conn)
    observer.connectionOpened()
    log.info({ event: 'ws_open', connection_id: conn.id, session_id: session.id, user_id: user.id, ip: conn.ip }, 'websocket opened')
    conn.send(
      welcomeFrame({
        connectionId: conn.id,
        sessionId: session.id,
        userId: user.id,
        username: user.username,
        heartbeatMs: config.heartbeatMs,
        devices: withLocalCounts(adm.devices, registry),
      }),
    )
    observer.handshake('ok', (performance.now() - started) / 1000)
    notifier.changed(user.id, conn.id, 'local')
    if (config.duplicatePolicy === 'replace') {
      void publish({ type: 'session_connected', nodeId, sessionId: session.id, connectionId: conn.id, connectedAt: conn.connectedAt })
    }
  }

  function refuse(req: IncomingMessage, socket: Duplex, err: unknown, client: ClientInfo, started: number): void {
    const expected = toApiError(err)
    if (!expected) log.error({ err, event: 'ws_handshake_failed' }, 'websocket handshake failed')
    const e = expected ?? new ApiError('INTERNAL_ERROR')
    observer.handshake(e.code, (performance.now() - started) / 1000)
    log.info({ event: 'ws_refused', status: e.status, error_code: e.code, ip: client.ip }, 'websocket refused')
    writeRefusal(socket, e, req.method)
  }

  /** Upgrades begin in slices of the event loop; a burst beyond what the node can start in time is refused 503 OVERLOADED. */
  const pacer = new HandshakePacer<PendingUpgrade>({
    ...config.upgradePacing,
    now: () => performance.now(),
    begin: (u) => beginUpgrade(u.req, u.socket, u.head, u.started),
    gone: (u) => u.socket.destroyed,
    refuse: (u) => refuse(u.req, u.socket, overloaded(), { ip: u.req.socket.remoteAddress ?? 'unknown', userAgent: '' }, u.started),
  })

  function handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', destroyOnError)
    pacer.submit({ req, socket, head, started: performance.now() })
  }

  // Fail closed: whatever goes wrong before the upgrade becomes a refusal, never a socket.
  function beginUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, started: number): void {
    let client: ClientInfo
    try {
      client = clientInfo(req, config.trustProxy)
    } catch (err) {
      refuse(req, socket, err, { ip: 'unknown', userAgent: '' }, started)
      return
    }
    admitUpgrade(req, client, handshakeDeps)
      .then(
        (adm) => upgrade(req, socket, head, adm, started),
        (err) => refuse(req, socket, err, client, started),
      )
      .catch((err) => backstop(err, socket, req))
  }

  /** The synchronous last step: final checks, then ws completes the handshake and calls accept. */
  function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, adm: Admission, started: number): void {
    if (socket.destroyed) {
      releaseClaim(adm.auth.session.id, adm.connectionId)
      return // the client gave up while we checked
    }
    try {
      admitNow(adm, handshakeDeps)
    } catch (err) {
      releaseClaim(adm.auth.session.id, adm.connectionId)
      refuse(req, socket, err, adm.client, started)
      return
    }
    socket.off('error', destroyOnError)
    // ws writes the 101 response and the welcome frame separately (handleUpgrade runs accept
    // synchronously): corked, both leave in one write.
    socket.cork()
    let handedOver = false
    try {
      wss.handleUpgrade(req, socket, head, (ws) => {
        handedOver = true
        forgetPeerName(socket)
        try {
          accept(ws, adm, started)
        } catch (err) {
          log.error({ err, event: 'ws_accept_failed' }, 'could not set up an accepted websocket')
          // Without a LiveConnection no close will release the claim: release it here.
          if (!ws.conn) releaseClaim(adm.auth.session.id, adm.connectionId)
          ws.close(CloseCode.INTERNAL_ERROR, 'INTERNAL_ERROR')
        }
      })
    } finally {
      socket.uncork()
      // ws drops a socket that is no longer readable or writable without calling back.
      if (!handedOver) releaseClaim(adm.auth.session.id, adm.connectionId)
    }
  }

  async function drain(): Promise<void> {
    draining = true
    // Sockets the server was already closing (revoked, replaced) finish on ws's close timeout.
    const conns = [...registry.values()]
    const sockets = conns.map((conn) => conn.ws)
    for (const conn of conns) conn.close('GOING_AWAY')
    const allClosed = Promise.all(sockets.map((ws) => (ws.readyState === WebSocket.CLOSED ? undefined : new Promise((r) => ws.once('close', r)))))
    let timer: NodeJS.Timeout | undefined
    const timedOut = new Promise((r) => (timer = setTimeout(r, config.shutdownGraceMs)))
    await Promise.race([allClosed, timedOut])
    clearTimeout(timer)
    for (const ws of sockets) ws.terminate()
  }

  let closing: Promise<void> | undefined
  async function close(): Promise<void> {
    draining = true
    stopWatchingStore()
    liveness.stop()
    push.stop()
    await Promise.all([expiry.stop(), watcher.stop()])
    await drain()
    unsubscribe()
    await notifier.stop()
    await rows.stop()
    await presence.stop()
    wss.close()
    log.info({ event: 'gateway_closed', node_id: nodeId }, 'gateway closed')
  }

  return {
    nodeId,
    registry,
    handleUpgrade,
    async start() {
      await presence.start()
      await watcher.start()
      expiry.start()
      liveness.start()
    },
    flush: () => registry.flush(),
    async settle() {
      await registry.flush()
      await notifier.settled()
    },
    deliverLocal,
    deliver: (userId, data) => push.deliver(userId, data),
    drain,
    close: () => (closing ??= close()),
  }
}
