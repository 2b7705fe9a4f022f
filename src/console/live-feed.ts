import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import type { Logger } from 'pino'
import { WebSocket, WebSocketServer } from 'ws'
import type { AuthContext, SessionService } from '../auth/sessions.js'
import type { Bus } from '../cluster/bus.js'
import { ApiError, toApiError } from '../errors.js'
import { readProtocolCredentials, selectSubprotocol } from '../gateway/credentials.js'
import { isOriginAllowed } from '../gateway/origin.js'
import { writeRefusal } from '../gateway/refuse.js'
import { CloseCode } from '../gateway/close-codes.js'
import { isSessionLive, type Store } from '../store/types.js'

/** The path of the operators' live feed (a WebSocket; the console opens it). */
export const LIVE_FEED_PATH = '/admin/live'

/** What changed: the page re-reads the listings of that topic. */
export type FeedTopic = 'devices' | 'audit'

export interface LiveFeedLimits {
  /** Feeds one admin account may hold open on this node. */
  perAdmin: number
  /** Feeds this node holds at most. */
  total: number
  /** Changes within this window become one message. */
  debounceMs: number
  /** Ping period; a feed that missed a pong by the next ping is cut. */
  heartbeatMs: number
  /** How often each feed's session is checked again (revoked, expired, demoted, disabled → closed 4501). */
  recheckMs: number
}

export const DEFAULT_FEED_LIMITS: LiveFeedLimits = { perAdmin: 4, total: 64, debounceMs: 250, heartbeatMs: 15_000, recheckMs: 30_000 }

export interface LiveFeedDeps {
  sessions: SessionService
  store: Store
  now: () => number
  bus: Bus
  log: Logger
  limits?: Partial<LiveFeedLimits>
}

interface Feed {
  ws: WebSocket
  auth: AuthContext
  alive: boolean
}

/** The feed: its upgrade handler, a way to report changes, and its teardown. */
export interface LiveFeed {
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void
  /** Reports a change of `topic` (debounced, sent to every open feed). */
  notify(topic: FeedTopic): void
  readonly size: number
  close(): void
}

/**
 * The operators' live feed: a WebSocket authenticated like the chat socket's browser form
 * (`chatgate.v1, token.<t>, username.<u>`) but only for an admin's backoffice session, same-origin
 * only. It carries no data, only `{"type":"changed","topics":[…]}` when devices (on any node, from
 * the bus) or the audit trail changed, so the page re-reads the admin listings it is allowed to
 * read anyway. Bounded: feeds per admin and per node, a heartbeat, and a periodic re-check of the
 * session; a revoked session's feed closes with 4501.
 */
export function createLiveFeed(deps: LiveFeedDeps): LiveFeed {
  const { sessions, store, now, bus, log } = deps
  const limits = { ...DEFAULT_FEED_LIMITS, ...deps.limits }
  const wss = new WebSocketServer({ noServer: true, clientTracking: false, maxPayload: 1024, perMessageDeflate: false, handleProtocols: selectSubprotocol })
  const feeds = new Set<Feed>()
  const pending = new Set<FeedTopic>()
  let timer: NodeJS.Timeout | null = null
  let closed = false

  function notify(topic: FeedTopic): void {
    if (closed || feeds.size === 0) return
    pending.add(topic)
    timer ??= setTimeout(() => {
      timer = null
      const text = JSON.stringify({ type: 'changed', topics: [...pending].sort() })
      pending.clear()
      for (const f of feeds) if (f.ws.readyState === WebSocket.OPEN) f.ws.send(text)
    }, limits.debounceMs)
  }

  const unsubscribe = bus.subscribe((event) => {
    if (event.type === 'devices_changed') notify('devices')
    else if (event.type === 'operator_action') notify('audit')
    else if (event.type === 'sessions_revoked') {
      notify('devices')
      const ids = new Set(event.sessionIds)
      for (const f of feeds) if (ids.has(f.auth.session.id)) f.ws.close(CloseCode.SESSION_REVOKED, 'SESSION_REVOKED')
    }
  })

  const heartbeat = setInterval(() => {
    for (const f of feeds) {
      if (!f.alive) {
        f.ws.terminate()
        continue
      }
      f.alive = false
      f.ws.ping()
    }
  }, limits.heartbeatMs)
  heartbeat.unref()

  const recheck = setInterval(() => {
    for (const f of feeds) void stillAdmin(f).then((ok) => ok || f.ws.close(CloseCode.SESSION_REVOKED, 'SESSION_REVOKED'))
  }, limits.recheckMs)
  recheck.unref()

  /** Whether the feed's session is still live and its user still an enabled admin (a store error keeps it). */
  async function stillAdmin(f: Feed): Promise<boolean> {
    try {
      const [session, user] = await Promise.all([store.findSessionById(f.auth.session.id), store.findUserById(f.auth.user.id)])
      return session !== null && isSessionLive(session, now()) && user !== null && user.role === 'admin' && !user.disabled
    } catch (err) {
      log.warn({ err, event: 'live_feed_recheck_failed' }, 'could not re-check a live feed')
      return true
    }
  }

  async function admit(req: IncomingMessage): Promise<AuthContext> {
    if (!isOriginAllowed(req, undefined)) throw new ApiError('ORIGIN_NOT_ALLOWED', 'The live feed is same-origin only.')
    const creds = readProtocolCredentials(req.headers['sec-websocket-protocol'])
    if (!creds) throw new ApiError('UNAUTHORIZED', 'Send chatgate.v1, token.<token>, username.<username> as subprotocols.')
    const auth = await sessions.authenticate(creds.token, creds.username)
    if (!auth) throw new ApiError('UNAUTHORIZED')
    if (auth.session.kind !== 'backoffice' || auth.user.role !== 'admin') throw new ApiError('FORBIDDEN', 'The live feed is for an admin backoffice session.')
    const mine = [...feeds].filter((f) => f.auth.user.id === auth.user.id).length
    if (mine >= limits.perAdmin || feeds.size >= limits.total) throw new ApiError('TOO_MANY_CONNECTIONS', 'Too many live feeds open.', 5)
    return auth
  }

  function handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy())
    if (closed) {
      writeRefusal(socket, new ApiError('SHUTTING_DOWN'), req.method)
      return
    }
    admit(req).then(
      (auth) => {
        if (socket.destroyed) return
        wss.handleUpgrade(req, socket, head, (ws) => accept(ws, auth))
      },
      (err) => {
        const e = toApiError(err) ?? new ApiError('INTERNAL_ERROR')
        if (e.code === 'INTERNAL_ERROR') log.error({ err, event: 'live_feed_failed' }, 'live feed upgrade failed')
        writeRefusal(socket, e, req.method)
      },
    )
  }

  function accept(ws: WebSocket, auth: AuthContext): void {
    const feed: Feed = { ws, auth, alive: true }
    feeds.add(feed)
    ws.on('pong', () => (feed.alive = true))
    ws.on('error', () => undefined)
    // The feed is one-way: anything the page sends is ignored (maxPayload bounds it).
    ws.on('close', () => feeds.delete(feed))
    ws.send(JSON.stringify({ type: 'ready' }))
    log.debug({ event: 'live_feed_open', user_id: auth.user.id, feeds: feeds.size }, 'live feed opened')
  }

  return {
    handleUpgrade,
    notify,
    get size() {
      return feeds.size
    },
    close() {
      closed = true
      unsubscribe()
      clearInterval(heartbeat)
      clearInterval(recheck)
      if (timer) clearTimeout(timer)
      for (const f of feeds) f.ws.close(CloseCode.GOING_AWAY, 'GOING_AWAY')
      wss.close()
    },
  }
}
