import type { SessionView } from '../views.js'
import { Connection, type ProbeResult, type ReconnectOptions, refusalResult } from './connection.js'
import { ChatgateError } from './errors.js'
import { type CallApi, type Credentials, createApiCaller } from './http.js'
import { type OnOnline, type OpenSocket, realTimers, type Timers } from './socket.js'

export interface ClientOptions {
  /** Where chatgate answers, e.g. `https://chat.example.com` (no trailing path needed). */
  baseUrl: string
  fetch?: typeof fetch
  reconnect?: ReconnectOptions
  timers?: Timers
  /** The heartbeat assumed until the first welcome names the server's (default 30 s). */
  heartbeatMs?: number
}

/** How an environment reaches `/ws` (browser.ts, node.ts). */
export interface Transport {
  openSocket: OpenSocket
  onOnline?: OnOnline
  /** The sockets it opens carry a refused upgrade's answer (`SocketLike.refusal`): no `GET /session` probe. */
  seesRefusals?: boolean
}

export interface LoginInput {
  username: string
  password: string
  deviceName?: string
}

export interface SignedIn {
  userId: string
  sessionId: string
}

interface TokenResult {
  user_id: string
  session_token: string
  session_id: string
}

/**
 * The chatgate client (nullptr dialect): HTTP calls as methods, and `connect()` for the live
 * socket. Credentials live in memory only; the app decides where to keep `credentials`.
 */
export class ChatgateClient {
  #credentials: Credentials | null = null
  #connection: Connection | null = null
  readonly #call: CallApi
  readonly #options: ClientOptions
  readonly #transport: Transport
  readonly #base: string

  constructor(options: ClientOptions, transport: Transport) {
    this.#base = new URL(options.baseUrl).href.replace(/\/+$/, '')
    this.#options = options
    this.#transport = transport
    this.#call = createApiCaller(this.#base, options.fetch ?? ((...args) => fetch(...args)))
  }

  /** `{ username, token }` of the signed-in device, or null. */
  get credentials(): Credentials | null {
    return this.#credentials && { ...this.#credentials }
  }

  /** Creates an account and signs this device in. */
  register(input: LoginInput): Promise<SignedIn> {
    return this.#signIn('/user/register', input)
  }

  /** Signs this device in (a new session, one per device). */
  login(input: LoginInput): Promise<SignedIn> {
    return this.#signIn('/session', input)
  }

  /** Uses a token the app kept; no network call. */
  restore(credentials: Credentials): void {
    if (!credentials?.token || !credentials.username) throw new TypeError('restore() needs { username, token }.')
    this.#credentials = { username: credentials.username, token: credentials.token }
  }

  /** `GET /session`: this session and the user's devices. */
  session(): Promise<{ session: SessionView; devices: SessionView[] }> {
    return this.#authed('GET', '/session')
  }

  /** Revokes one of the user's own sessions. */
  async revokeDevice(sessionId: string): Promise<void> {
    await this.#authed('DELETE', `/session/${encodeURIComponent(sessionId)}`)
  }

  /** Revokes every other session of the user. */
  logoutOthers(): Promise<{ revoked: number }> {
    return this.#authed('DELETE', '/session/others')
  }

  /** Logs this device out; the credentials are cleared unless the server could not be reached. */
  async logout(): Promise<void> {
    try {
      await this.#authed('DELETE', '/session')
      this.#credentials = null
    } catch (e) {
      if ((e as ChatgateError).code !== 'NETWORK') this.#credentials = null
      throw e
    }
  }

  /** Changes the password; every other session of the user is revoked. */
  async changePassword(oldPassword: string, newPassword: string): Promise<void> {
    await this.#authed('PUT', '/user/password', { old_password: oldPassword, new_password: newPassword })
  }

  /** Opens `/ws` and keeps it open; while a connection lives, returns that one (never two sockets). */
  connect(): Connection {
    if (!this.#credentials) throw new Error('chatgate: connect() needs credentials: call login(), register() or restore() first.')
    if (this.#connection && this.#connection.state !== 'ended') return this.#connection
    const url = `${this.#base.replace(/^http/, 'ws')}/ws`
    this.#connection = new Connection({
      url,
      openSocket: this.#transport.openSocket,
      onOnline: this.#transport.onOnline,
      credentials: () => this.#credentials,
      dropCredentials: () => {
        this.#credentials = null
      },
      probeSession: () => this.#probe(),
      seesRefusals: this.#transport.seesRefusals ?? false,
      timers: this.#options.timers ?? realTimers,
      reconnect: this.#options.reconnect ?? {},
      heartbeatMs: this.#options.heartbeatMs ?? 30_000,
    })
    return this.#connection
  }

  async #signIn(path: string, { username, password, deviceName }: LoginInput): Promise<SignedIn> {
    const r = await this.#call<TokenResult>({ method: 'POST', path, body: { username, password, device_name: deviceName } })
    this.#credentials = { username, token: r.session_token }
    return { userId: r.user_id, sessionId: r.session_id }
  }

  #authed<T>(method: 'GET' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<T> {
    if (!this.#credentials) return Promise.reject(new ChatgateError(401, 'UNAUTHORIZED', 'Not signed in: call login(), register() or restore() first.'))
    return this.#call<T>({ method, path, body, credentials: this.#credentials })
  }

  async #probe(): Promise<ProbeResult> {
    try {
      await this.session()
      return { kind: 'retry' }
    } catch (e) {
      const err = e as ChatgateError
      return refusalResult(err.status, err.retryAfter)
    }
  }
}
