import { io, type Socket } from 'socket.io-client'
import WebSocket from 'ws'
import { dialWire, wireTarget } from './wire.js'

/** Which protocol the load generator speaks to a server. */
export interface TargetSpec {
  /** `ws`: chatgate and the bare ws reference (GET /ws); `socketio`: the Socket.IO reference. */
  protocol: 'ws' | 'socketio'
  /** ws://127.0.0.1:port/ws, or http://127.0.0.1:port for Socket.IO. */
  url: string
  /**
   * `wire`: bench/client/wire.ts, a lean client so the server is the bottleneck (default);
   * `library`: the `ws` package or `socket.io-client` (transports ['websocket']).
   */
  client: 'wire' | 'library'
  /** Loopback source address to dial from (wire client only), e.g. 127.0.0.2: each has its own ephemeral ports. */
  localAddress?: string
}

/** Credentials a client presents: chatgate's Token + Username headers (Socket.IO: its `auth` payload). */
export interface ClientCredential {
  token: string
  username: string
}

/** A connection that has received its welcome. */
export interface Conn {
  /** Milliseconds from the start of the dial to the welcome frame. */
  latencyMs: number
  /** Resolves with the close code once the connection is fully closed (by either side). */
  closed: Promise<number>
  /**
   * Resolves with the code and the time (performance.now()) the client first saw the close: the
   * close frame's arrival for the wire client; the completed close for the libraries, which do
   * not report the frame on its own.
   */
  closeSeen: Promise<{ code: number; at: number }>
  /** Starts a normal close and resolves when the connection is fully closed. */
  close(): Promise<number>
}

/** No handshake in a benchmark may hang the run. */
const DIAL_TIMEOUT_MS = 15_000

/** Dials a target and resolves on its welcome frame (rejects on refusal, close or timeout). */
export function dial(target: TargetSpec, cred: ClientCredential): Promise<Conn> {
  if (target.client === 'wire') return dialWire(wireTarget(target.protocol, target.url, target.localAddress), cred)
  return target.protocol === 'ws' ? dialWs(target.url, cred) : dialSocketIo(target.url, cred)
}

function dialWs(url: string, cred: ClientCredential): Promise<Conn> {
  const start = performance.now()
  const ws = new WebSocket(url, { headers: { Token: cred.token, Username: cred.username }, perMessageDeflate: false })
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)))
  const closeSeen = closed.then((code) => ({ code, at: performance.now() }))
  return new Promise<Conn>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`no welcome within ${DIAL_TIMEOUT_MS} ms`)), DIAL_TIMEOUT_MS)
    const onError = (err: Error) => fail(err)
    const onClose = (code: number) => fail(new Error(`closed with ${code} before the welcome`))
    const onRefused = (_req: unknown, res: import('node:http').IncomingMessage) => {
      let body = ''
      res.on('data', (d: Buffer) => (body += d))
      res.on('end', () => fail(new Error(`upgrade refused: ${res.statusCode} ${body.slice(0, 200)}`)))
      res.on('error', () => fail(new Error(`upgrade refused: ${res.statusCode}`)))
    }
    const settle = () => {
      clearTimeout(timer)
      ws.off('error', onError)
      ws.off('close', onClose)
      ws.off('unexpected-response', onRefused)
      ws.off('message', onWelcome)
      ws.on('error', () => {}) // after the outcome, a reset only ends the connection
    }
    const fail = (err: Error) => {
      settle()
      ws.terminate()
      reject(err)
    }
    const onWelcome = (data: WebSocket.RawData) => {
      const latencyMs = performance.now() - start
      if (!String(data).startsWith('{"type":"welcome"')) return fail(new Error(`first frame is not a welcome: ${String(data).slice(0, 100)}`))
      settle()
      resolve({
        latencyMs,
        closed,
        closeSeen,
        close() {
          ws.close(1000)
          return closed
        },
      })
    }
    ws.on('error', onError)
    ws.once('close', onClose)
    ws.once('unexpected-response', onRefused)
    ws.once('message', onWelcome)
  })
}

function dialSocketIo(url: string, cred: ClientCredential): Promise<Conn> {
  const start = performance.now()
  const socket: Socket = io(url, {
    transports: ['websocket'],
    forceNew: true,
    reconnection: false,
    timeout: DIAL_TIMEOUT_MS,
    auth: { token: cred.token, username: cred.username },
  })
  return new Promise<Conn>((resolve, reject) => {
    socket.once('connect_error', (err) => {
      socket.close()
      reject(new Error(`socket.io refused: ${err.message}`))
    })
    socket.once('welcome', () => {
      const latencyMs = performance.now() - start
      socket.off('connect_error')
      // The engine's WebSocket: closing is complete when it reports its own close.
      const raw = (socket.io.engine as unknown as { transport: { ws?: WebSocket } }).transport.ws
      const rawClosed = raw
        ? new Promise<number>((r) => (raw.readyState === WebSocket.CLOSED ? r(1006) : raw.once('close', (code) => r(code))))
        : new Promise<number>((r) => socket.io.engine.once('close', () => r(1000)))
      resolve({
        latencyMs,
        closed: rawClosed,
        closeSeen: rawClosed.then((code) => ({ code, at: performance.now() })),
        close() {
          socket.disconnect()
          return rawClosed
        },
      })
    })
  })
}
