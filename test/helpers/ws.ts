import { request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import WebSocket, { type ClientOptions } from 'ws'

/** A frame as the server sent it, parsed. */
export type Frame = { type: string; [key: string]: any }

export { waitFor, within } from './wait-for.js'
import { within } from './wait-for.js'

/**
 * A connected test socket: every frame it receives is logged in `messages` from the first byte on
 * (so nothing can slip by unseen), `next()` reads them in order, `closed` resolves on close.
 */
export class TestClient {
  /** Every frame received, in order (also those already read with next()). */
  readonly messages: Frame[] = []
  /** The close as the client saw it; `afterClose` counts frames that arrived after it (must stay 0). */
  readonly closed: Promise<{ code: number; reason: string }>
  closeInfo: { code: number; reason: string } | null = null
  afterClose = 0
  private cursor = 0
  private wake: (() => void) | null = null
  private readonly ignored = new Set<string>()

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      if (this.closeInfo) this.afterClose++
      this.messages.push(isBinary ? { type: '<binary>' } : (JSON.parse(String(data)) as Frame))
      this.wake?.()
    })
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        this.closeInfo = { code, reason: reason.toString() }
        this.wake?.()
        resolve(this.closeInfo)
      })
    })
    ws.on('error', () => undefined) // surfaced through `closed`
  }

  /** Makes next() skip frames of these types (e.g. `devices`, which other sockets' comings and goings cause). */
  ignore(...types: string[]): this {
    for (const t of types) this.ignored.add(t)
    return this
  }

  /** The next unread frame (not of an ignored type); fails after `ms` or when the socket closes first. */
  async next(ms = 5_000): Promise<Frame> {
    const deadline = Date.now() + ms
    while (this.cursor < this.messages.length && this.ignored.has(this.messages[this.cursor]!.type)) this.cursor++
    while (this.cursor >= this.messages.length) {
      if (this.closeInfo) throw new Error(`socket closed (${this.closeInfo.code}) while waiting for a frame`)
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`no frame within ${ms} ms`)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left)
        this.wake = () => {
          clearTimeout(timer)
          resolve()
        }
      })
      this.wake = null
      while (this.cursor < this.messages.length && this.ignored.has(this.messages[this.cursor]!.type)) this.cursor++
    }
    return this.messages[this.cursor++]!
  }

  /** Reads frames until one of `type` arrives (fails on timeout); returns it. */
  async nextOfType(type: string, ms = 5_000): Promise<Frame> {
    const deadline = Date.now() + ms
    for (;;) {
      const f = await this.next(Math.max(1, deadline - Date.now()))
      if (f.type === type) return f
    }
  }

  /** Frames not read yet. */
  unread(): Frame[] {
    return this.messages.slice(this.cursor)
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame))
  }

  /** Waits for the close; fails after `ms`. */
  waitClose(ms = 5_000): Promise<{ code: number; reason: string }> {
    return within(this.closed, ms, 'the socket to close')
  }

  /** Sends a ping frame and reads up to its pong (a round trip: frames sent before it have arrived). */
  async roundTrip(ms = 5_000): Promise<void> {
    this.send({ type: 'ping' })
    await this.nextOfType('pong', ms)
  }

  close(): Promise<{ code: number; reason: string }> {
    this.ws.close(1000)
    return this.waitClose()
  }
}

/** The outcome of an upgrade: 101 with a client, or a refusal with its status and JSON body. */
export interface Upgrade {
  status: number
  headers: IncomingHttpHeaders
  body: any
  client: TestClient | null
}

export interface ConnectOptions {
  /** Sent as Token + Username headers. */
  token?: string
  username?: string
  /** Offered as Sec-WebSocket-Protocol entries. */
  protocols?: string[]
  headers?: Record<string, string>
  path?: string
  ws?: ClientOptions
}

/** Opens `ws://…/ws` on the test server at `baseUrl` (http://host:port) and reports the outcome. */
export function connect(baseUrl: string, o: ConnectOptions = {}): Promise<Upgrade> {
  const headers: Record<string, string> = { ...o.headers }
  if (o.token !== undefined) headers.Token = o.token
  if (o.username !== undefined) headers.Username = o.username
  const url = baseUrl.replace(/^http/, 'ws') + (o.path ?? '/ws')
  const ws = new WebSocket(url, o.protocols ?? [], { headers, ...o.ws })
  const client = new TestClient(ws)
  return within(
    new Promise<Upgrade>((resolve, reject) => {
      let upgradeHeaders: IncomingHttpHeaders = {}
      ws.once('upgrade', (res) => (upgradeHeaders = res.headers))
      ws.once('open', () => resolve({ status: 101, headers: upgradeHeaders, body: null, client }))
      ws.once('unexpected-response', (req, res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (d: string) => (text += d))
        res.on('end', () => {
          req.destroy()
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: parseJson(text), client: null })
        })
      })
      ws.once('error', reject)
    }),
    5_000,
    `the upgrade of ${url}`,
  )
}

/** Connects and insists on success; returns the client and its welcome frame. */
export async function connectOk(baseUrl: string, o: ConnectOptions = {}): Promise<{ client: TestClient; welcome: Frame }> {
  const up = await connect(baseUrl, o)
  if (up.status !== 101 || !up.client) throw new Error(`expected 101, got ${up.status} ${JSON.stringify(up.body)}`)
  const welcome = await up.client.next()
  if (welcome.type !== 'welcome') throw new Error(`first frame was ${JSON.stringify(welcome)}`)
  return { client: up.client, welcome }
}

/** A hand-made upgrade request (for headers `ws` will not send); resolves with the plain response. */
export function rawUpgrade(
  baseUrl: string,
  headers: Record<string, string | string[]>,
  path = '/ws',
  method = 'GET',
): Promise<{ status: number; headers: IncomingHttpHeaders; body: any }> {
  return within(
    new Promise((resolve, reject) => {
      const req = httpRequest(baseUrl + path, {
        method,
        headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==', ...headers },
      })
      req.on('upgrade', (res, socket) => {
        socket.destroy()
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: null })
      })
      req.on('response', (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (d: string) => (text += d))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: parseJson(text) }))
      })
      req.on('error', reject)
      req.end()
    }),
    5_000,
    'a raw upgrade',
  )
}

function parseJson(text: string): any {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}
