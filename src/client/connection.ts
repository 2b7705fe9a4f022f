import type { ServerFrame, WelcomeInfo } from '../gateway/frames.js'
import { PING_FRAME } from '../gateway/frames.js'
import type { SessionView } from '../views.js'
import { fullJitterDelay } from './backoff.js'
import { closeAction, codeOfName, type EndReason } from './close-policy.js'
import { Emitter } from './emitter.js'
import { ChatgateError } from './errors.js'
import type { Credentials } from './http.js'
import type { OnOnline, OpenSocket, SocketLike, Timers } from './socket.js'

export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'ended'

/** The `welcome` frame's content: the server's own type. */
export type Welcome = WelcomeInfo

export interface ConnectionEvents {
  welcome: Welcome
  devices: SessionView[]
  event: unknown
  state: ConnectionState
  ended: { reason: EndReason; code: number }
  error: ChatgateError
}

/** What a refused upgrade means for the client: its own answer (Node) or a `GET /session` probe's (browser). */
export type ProbeResult = { kind: 'unauthorized' } | { kind: 'wait'; ms: number | undefined } | { kind: 'retry' }

/** The close table's row for a refusal's status: 401 stop, 429/503 wait `Retry-After`, anything else back off. */
export function refusalResult(status: number, retryAfterSec: number | undefined): ProbeResult {
  if (status === 401) return { kind: 'unauthorized' }
  if (status === 429 || status === 503) return { kind: 'wait', ms: retryAfterSec === undefined ? undefined : retryAfterSec * 1000 }
  return { kind: 'retry' }
}

/** Reconnect timings (CLIENT.md: 0.5 s base, 30 s cap, reset after 60 s open). */
export interface ReconnectOptions {
  baseMs?: number
  capMs?: number
  resetAfterMs?: number
  random?: () => number
}

export interface ConnectionDeps {
  url: string
  openSocket: OpenSocket
  onOnline?: OnOnline
  credentials(): Credentials | null
  dropCredentials(): void
  probeSession(): Promise<ProbeResult>
  /**
   * True when the transport reads a refused upgrade's answer itself (Node: `socket.refusal`): a
   * 1006 before `open` then needs no probe. A browser's cannot, and asks `GET /session`.
   */
  seesRefusals?: boolean
  timers: Timers
  reconnect: ReconnectOptions
  /** The heartbeat period assumed until a welcome names the server's. */
  heartbeatMs: number
}

const ABNORMAL = 1006
const ignore = () => undefined
/** Stops listening to a socket we gave up on; `ws` needs an error listener to stay, or it throws. */
const detach = (socket: SocketLike) => {
  socket.onopen = socket.onmessage = socket.onclose = null
  socket.onerror = ignore
}

/**
 * One live `/ws`, kept open: reconnects, stops and drops credentials exactly as the close-code
 * table says (close-policy.ts), sends `ping` every heartbeat and treats two silent periods as
 * 1006. At most one socket at a time; nothing happens after `ended`.
 */
export class Connection extends Emitter<ConnectionEvents> {
  #state: ConnectionState = 'connecting'
  #socket: SocketLike | null = null
  #attempt = 0
  #opened = false
  #openedAt = 0
  #lastHeard = 0
  #heartbeatMs: number
  #announced: number | undefined
  #timers = new Set<unknown>()
  #retry: unknown = null
  #stopOnline: () => void
  readonly #d: ConnectionDeps

  constructor(deps: ConnectionDeps) {
    super()
    this.#d = deps
    this.#heartbeatMs = deps.heartbeatMs
    this.#stopOnline = deps.onOnline?.(() => this.#reconnectNow()) ?? (() => undefined)
    deps.timers.setTimeout(() => this.#open(), 0)
  }

  get state(): ConnectionState {
    return this.#state
  }

  /** Closes with 1000; state `ended`, reason `closed`. */
  close(): void {
    this.#end('closed', 1000)
  }

  #setState(state: ConnectionState): void {
    if (this.#state === state) return
    this.#state = state
    this.emit('state', state)
  }

  #after(ms: number, fn: () => void): unknown {
    const id = this.#d.timers.setTimeout(() => {
      this.#timers.delete(id)
      fn()
    }, ms)
    this.#timers.add(id)
    return id
  }

  #clearTimers(): void {
    for (const id of this.#timers) this.#d.timers.clearTimeout(id)
    this.#timers.clear()
    this.#retry = null
  }

  #open(): void {
    if (this.#state === 'ended' || this.#socket) return
    const credentials = this.#d.credentials()
    if (!credentials) {
      this.#end('unauthorized', ABNORMAL)
      return
    }
    this.#opened = false
    this.#announced = undefined
    let socket: SocketLike
    try {
      socket = this.#d.openSocket(this.#d.url, credentials)
    } catch (e) {
      this.emit('error', new ChatgateError(0, 'NETWORK', String((e as Error)?.message ?? e)))
      this.#scheduleReconnect()
      return
    }
    this.#socket = socket
    socket.onopen = () => this.#onOpen(socket)
    socket.onmessage = (ev) => this.#onMessage(socket, ev.data)
    socket.onclose = (ev) => this.#onClose(socket, ev.code)
    socket.onerror = ignore // the close that follows says what happened
  }

  #onOpen(socket: SocketLike): void {
    if (socket !== this.#socket) return
    this.#opened = true
    this.#lastHeard = this.#d.timers.now()
    this.#ping(socket)
    this.#watch(socket)
  }

  /** Sends a ping every heartbeat period: browsers cannot see the server's WebSocket pings. */
  #ping(socket: SocketLike): void {
    this.#after(this.#heartbeatMs, () => {
      if (socket !== this.#socket) return
      try {
        socket.send(PING_FRAME)
      } catch {
        // a socket closing under us: its close event follows
      }
      this.#ping(socket)
    })
  }

  /** Two heartbeat periods without a single frame: the server or the path to it is gone (1006). */
  #watch(socket: SocketLike): void {
    const silentMs = 2 * this.#heartbeatMs
    const left = this.#lastHeard + silentMs - this.#d.timers.now()
    this.#after(Math.max(left, 0), () => {
      if (socket !== this.#socket) return
      if (this.#d.timers.now() - this.#lastHeard < silentMs) {
        this.#watch(socket)
        return
      }
      this.#drop(socket)
      this.#onClose(socket, ABNORMAL, true)
    })
  }

  #drop(socket: SocketLike): void {
    detach(socket)
    try {
      if (socket.terminate) socket.terminate()
      else socket.close()
    } catch {
      // already gone
    }
  }

  #onMessage(socket: SocketLike, data: unknown): void {
    if (socket !== this.#socket) return
    this.#lastHeard = this.#d.timers.now()
    let frame: ServerFrame
    try {
      if (typeof data !== 'string') throw new Error('binary')
      frame = JSON.parse(data)
      if (typeof frame !== 'object' || frame === null) throw new Error('not an object')
    } catch {
      this.emit('error', new ChatgateError(0, 'BAD_FRAME', 'The server sent a frame that is not a JSON object.'))
      return
    }
    switch (frame.type) {
      case 'welcome':
        if (frame.heartbeat_ms > 0 && frame.heartbeat_ms !== this.#heartbeatMs) {
          // Ping and watch on the server's period from now on.
          this.#heartbeatMs = frame.heartbeat_ms
          this.#clearTimers()
          this.#ping(socket)
          this.#watch(socket)
        }
        this.#openedAt = this.#d.timers.now()
        this.#setState('open')
        this.emit('welcome', {
          connectionId: frame.connection_id,
          sessionId: frame.session_id,
          userId: frame.user_id,
          username: frame.username,
          heartbeatMs: frame.heartbeat_ms,
          devices: frame.devices,
        })
        return
      case 'devices':
        this.emit('devices', frame.devices)
        return
      case 'event':
        this.emit('event', frame.data)
        return
      case 'revoked':
        this.#announced = codeOfName(frame.reason)
        return
      case 'pong':
        return
      case 'error':
        this.emit('error', new ChatgateError(0, String(frame.error_code), 'The server could not use a frame this client sent.'))
        return
      default:
        this.emit('error', new ChatgateError(0, 'UNKNOWN_FRAME', `Unknown frame type ${JSON.stringify((frame as { type?: unknown }).type)}.`))
    }
  }

  #onClose(socket: SocketLike, code: number, silent = false): void {
    if (socket !== this.#socket) return
    this.#socket = null
    this.#clearTimers()
    if (this.#state === 'ended') return
    if (this.#opened && this.#d.timers.now() - this.#openedAt >= (this.#d.reconnect.resetAfterMs ?? 60_000) && this.#state === 'open') this.#attempt = 0
    // A 45xx announced by a `revoked` frame counts even when the close frame itself was lost.
    const effective = code === ABNORMAL && this.#announced !== undefined ? this.#announced : code
    if (effective === ABNORMAL && !this.#opened && !silent) {
      if (!this.#d.seesRefusals) this.#probe()
      else if (socket.refusal) this.#refused(refusalResult(socket.refusal.status, socket.refusal.retryAfterSec))
      else this.#scheduleReconnect() // no HTTP answer at all: the network, as 1006
      return
    }
    const action = closeAction(effective)
    if (!action.reconnect) {
      if (action.dropCredentials) this.#d.dropCredentials()
      this.#end(action.reason, effective)
      return
    }
    this.#scheduleReconnect()
  }

  /** A refused upgrade looks like 1006 in a browser: one `GET /session` says which refusal it was. */
  #probe(): void {
    this.#setState('reconnecting')
    this.#d.probeSession().then(
      (result) => this.#refused(result),
      () => this.#state !== 'ended' && this.#scheduleReconnect(),
    )
  }

  /** Acts on what a refusal meant: end unauthorized (credentials dropped), or reconnect after its wait. */
  #refused(result: ProbeResult): void {
    if (this.#state === 'ended') return
    if (result.kind === 'unauthorized') {
      this.#d.dropCredentials()
      this.#end('unauthorized', ABNORMAL)
      return
    }
    this.#scheduleReconnect(result.kind === 'wait' ? result.ms : undefined)
  }

  #scheduleReconnect(waitMs?: number): void {
    this.#setState('reconnecting')
    const { baseMs = 500, capMs = 30_000, random = Math.random } = this.#d.reconnect
    const delay = waitMs ?? fullJitterDelay(this.#attempt, baseMs, capMs, random)
    this.#attempt++
    this.#retry = this.#after(delay, () => {
      this.#retry = null
      this.#open()
    })
  }

  /** The network is back: skip the rest of the backoff (never while a socket is open or opening). */
  #reconnectNow(): void {
    if (this.#state !== 'reconnecting' || this.#retry === null || this.#socket) return
    this.#d.timers.clearTimeout(this.#retry)
    this.#timers.delete(this.#retry)
    this.#retry = null
    this.#open()
  }

  #end(reason: EndReason, code: number): void {
    if (this.#state === 'ended') return
    this.#clearTimers()
    this.#stopOnline()
    const socket = this.#socket
    this.#socket = null
    if (socket) {
      detach(socket)
      try {
        socket.close(1000)
      } catch {
        // already closing
      }
    }
    this.#setState('ended')
    this.emit('ended', { reason, code })
  }
}
