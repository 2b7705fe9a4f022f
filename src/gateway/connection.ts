import type { Socket } from 'node:net'
import { WebSocket, type RawData } from 'ws'
import { ABNORMAL_CLOSURE, CloseCode, type CloseName, type TerminalCloseName } from './close-codes.js'
import { revokedFrame } from './frames.js'

/** What the registry and the connections table know about a live socket. */
export interface ConnectionInfo {
  id: string
  sessionId: string
  userId: string
  ip: string
  userAgent: string
  connectedAt: number
  /** The session's expiry as last read; the expiry sweep re-reads the session once it passes. */
  expiresAt: number
}

/** Why a connection ended, for the log line. */
export type EndCause = 'peer' | 'server' | 'heartbeat' | 'slow_consumer'

export interface ConnectionLimits {
  /** Above this many bytes queued for the peer, the next send terminates the socket instead. */
  maxBufferedBytes: number
  /** Client messages allowed per fixed 10 s window; one more closes with 1008. */
  messagesPer10s: number
}

export const MESSAGE_WINDOW_MS = 10_000

/** What every connection of a gateway shares: its limits and the gateway's handlers (one object for all sockets). */
export interface ConnectionHooks {
  limits: ConnectionLimits
  /** A client frame (the socket's `message` event). */
  message(conn: LiveConnection, data: RawData, isBinary: boolean): void
  /** A socket error; ws closes the socket after it, and the close follows as `ended`. */
  error(conn: LiveConnection, err: Error): void
  /** Runs exactly once, when the server starts closing the socket or the peer closed it. */
  ended(conn: LiveConnection, code: number, cause: EndCause): void
}

/** The fields of ws's WebSocket that `GatewaySocket` reads (ws 8 keeps them for the socket's life). */
interface WsInternals {
  _closeFrameReceived: boolean
  _socket: Socket | null
  /** The frame parser; `_buffers` queues the chunks read from the socket until they are parsed. */
  _receiver: { _buffers: unknown[] } | null
}

/**
 * Once ws has parsed every chunk it read, its Receiver's queue is empty but keeps the backing
 * store it grew for the first chunk (17 slots, 152 bytes) for the socket's life: after the first
 * pong, every held socket carried one (bench scenario 2, heap snapshots). Setting an empty
 * array's length to 0 lets V8 drop that store; the next chunk grows a new one. Only an empty
 * queue is touched, so nothing ws still has to parse is lost. Decision 0360.
 */
function releaseReadQueue(ws: WebSocket): void {
  const queue = (ws as unknown as WsInternals)._receiver?._buffers
  if (queue !== undefined && queue.length === 0) queue.length = 0
}

/** A `finish` listener shared by every closing socket: our FIN is flushed, the close frames are exchanged. */
function destroySocket(this: Socket): void {
  this.destroy()
}

/**
 * The gateway's WebSocket class (ws's `WebSocket` server option): ws plus one slot, the
 * connection it carries. ws reports a socket's events through `emit`; this class hands `message`,
 * `pong`, `error` and `close` straight to the connection instead of keeping four listeners per
 * socket: each listener is a key of the socket's own `_events` dictionary, and four of them grew
 * it by ~100 bytes per idle connection (bench scenario 2, heap snapshots). Listeners added with
 * `on`/`once` (the drain waits on `close`) still run after the connection's own handling.
 */
export class GatewaySocket extends WebSocket {
  conn: LiveConnection | null = null

  /**
   * ws calls this when either side starts the closing handshake, and again when the peer's close
   * frame arrives after ours. Once both close frames are exchanged, ws half-closes the TCP
   * connection and waits for the peer's FIN; when it comes, ws ends the socket a second time and
   * node builds an ERR_STREAM_ALREADY_FINISHED error nobody reads. The server closes the
   * connection itself instead, as soon as its own close frame and FIN are flushed (RFC 6455 7.1.1:
   * the server closes the TCP connection first). Decision 0356.
   */
  override close(code?: number, data?: string | Buffer): void {
    super.close(code, data)
    const { _closeFrameReceived: received, _socket: socket } = this as unknown as WsInternals
    if (received && socket && !socket.destroyed && !socket.listeners('finish').includes(destroySocket)) socket.once('finish', destroySocket)
  }

  // biome-ignore lint/suspicious/noExplicitAny: EventEmitter's own signature
  override emit(event: string | symbol, ...args: any[]): boolean {
    const conn = this.conn
    if (conn !== null) {
      switch (event) {
        case 'message':
          conn.hooks.message(conn, args[0] as RawData, args[1] as boolean)
          releaseReadQueue(this)
          break
        case 'pong':
          conn.missedPings = 0
          releaseReadQueue(this)
          break
        case 'close':
          conn.closed(args[0] as number)
          break
        case 'error':
          conn.hooks.error(conn, args[0] as Error)
          // Handled: EventEmitter would throw an 'error' that has no listener.
          if (this.listenerCount('error') === 0) return true
          break
      }
    }
    return super.emit(event, ...args)
  }
}

/**
 * One accepted WebSocket: its identity, its send and close rules. Once the server decides to close
 * it, nothing more is sent (the `revoked` frame is always the last frame before a 45xx close).
 * `hooks.ended` runs exactly once, when the server starts closing it or the peer closes it.
 */
export class LiveConnection implements ConnectionInfo {
  readonly id: string
  readonly sessionId: string
  readonly userId: string
  readonly ip: string
  readonly userAgent: string
  readonly connectedAt: number
  expiresAt: number
  /** Pings sent since the last pong (the liveness sweep terminates at two). */
  missedPings = 0
  /** Which of the heartbeat's buckets pings this socket (gateway/liveness.ts); -1 until tracked. */
  heartbeatBucket = -1
  /** When the session was revoked (epoch ms), once a revocation closes this socket: for the revocation-to-close metric. */
  revokedAt: number | null = null
  private open = true
  private ended = false
  private windowStart = 0
  private windowCount = 0

  constructor(
    readonly ws: WebSocket,
    info: ConnectionInfo,
    readonly hooks: ConnectionHooks,
  ) {
    this.id = info.id
    this.sessionId = info.sessionId
    this.userId = info.userId
    this.ip = info.ip
    this.userAgent = info.userAgent
    this.connectedAt = info.connectedAt
    this.expiresAt = info.expiresAt
  }

  /** The socket's `close` event: the peer closed, or a close the server started completed. */
  closed(code: number): void {
    this.open = false
    this.end(code, 'peer')
  }

  /** True until the server starts closing the socket or the peer closes it. */
  get isOpen(): boolean {
    return this.open
  }

  /** Sends one text frame; a slow consumer (too much queued) is terminated instead. */
  send(text: string): boolean {
    if (!this.open) return false
    if (this.ws.bufferedAmount > this.hooks.limits.maxBufferedBytes) {
      this.terminate('slow_consumer')
      return false
    }
    this.ws.send(text)
    return true
  }

  /** Counts one client message against the fixed 10 s window; false once over the limit. */
  admitMessage(now: number): boolean {
    if (now - this.windowStart >= MESSAGE_WINDOW_MS) {
      this.windowStart = now
      this.windowCount = 0
    }
    return ++this.windowCount <= this.hooks.limits.messagesPer10s
  }

  /** Closes with a code of the table; the close code's name is the close reason. */
  close(name: CloseName): void {
    if (!this.open) return
    this.open = false
    const code = CloseCode[name]
    this.ws.close(code, name)
    this.end(code, 'server')
  }

  /** Sends `{"type":"revoked","reason":NAME}` and closes with that 45xx code; nothing follows. */
  revoke(name: TerminalCloseName): void {
    if (!this.open) return
    this.send(revokedFrame(name))
    this.close(name)
  }

  /** Cuts the TCP connection without a close handshake (dead or slow peers). */
  terminate(cause: 'heartbeat' | 'slow_consumer'): void {
    if (this.ended && !this.open) return
    this.open = false
    this.ws.terminate()
    this.end(ABNORMAL_CLOSURE, cause)
  }

  private end(code: number, cause: EndCause): void {
    if (this.ended) return
    this.ended = true
    this.hooks.ended(this, code, cause)
  }
}
