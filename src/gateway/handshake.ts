import type { IncomingMessage } from 'node:http'
import type { AuthContext, SessionService } from '../auth/sessions.js'
import { createConnectionId } from '../auth/tokens.js'
import type { Config } from '../config.js'
import { ApiError } from '../errors.js'
import { refuseTokenInQuery } from '../request/credentials.js'
import { parseRequestTarget } from '../request/target.js'
import { refuseBadHost, refuseControlCharacterHeaders } from '../request/header-check.js'
import type { ClientInfo } from '../request/client-info.js'
import type { Limits } from '../limits/limits.js'
import type { DeviceRecord, Store } from '../store/types.js'
import { toSessionView, type SessionView } from '../views.js'
import { readHandshakeCredentials } from './credentials.js'
import { isOriginAllowed } from './origin.js'
import type { Registry } from './registry.js'

/** The one path WebSocket upgrades are served on. */
export const WS_PATH = '/ws'
/** Seconds a client is told to wait after a connection cap refused it. */
export const CAP_RETRY_AFTER_S = 10

/** What a handshake that passed every check carries into the upgrade. */
export interface Admission {
  auth: AuthContext
  client: ClientInfo
  /** The user's devices as the store saw them before the upgrade (counts corrected at welcome). */
  devices: SessionView[]
  /** The id the socket will have (under `reject` it already holds the session's claim in the store). */
  connectionId: string
}

export interface HandshakeDeps {
  config: Config
  store: Store
  sessions: SessionService
  registry: Registry
  /** This node's id, the holder named in a session claim (`reject`). */
  nodeId: string
  now: () => number
  isDraining: () => boolean
  /** Per-IP upgrade rate (UPGRADES_PER_IP_PER_MIN). */
  upgradeLimit: Limits['upgrade']
  /** True for sessions revoked on this node moments ago (a revocation may race a handshake). */
  wasJustRevoked: (sessionId: string) => boolean
  /** The oldest heartbeat of a live node at `now`. */
  liveSince: (now: number) => number
}

const KEY = /^[+/0-9A-Za-z]{22}==$/

/**
 * Every check of `GET /ws` that may wait on the store, in order: draining, path, a valid upgrade,
 * header values, Host, the per-IP upgrade rate, a token in the URL, Origin, credentials, the
 * per-IP cap, the session (read with the user's device list for the welcome), the duplicate
 * policy. Throws ApiError for a refusal. `admitNow` must run right before the upgrade.
 */
export async function admitUpgrade(req: IncomingMessage, client: ClientInfo, deps: HandshakeDeps): Promise<Admission> {
  const { config, sessions, registry } = deps
  if (deps.isDraining()) throw new ApiError('SHUTTING_DOWN')
  const target = parseRequestTarget(req.url ?? '')
  if (!target) throw new ApiError('BAD_REQUEST', 'The request target must be a path starting with one /.')
  if (target.path !== WS_PATH) throw new ApiError('NOT_FOUND', `WebSocket upgrades are served on ${WS_PATH}.`)
  checkUpgradeHeaders(req)
  refuseControlCharacterHeaders(req)
  refuseBadHost(req)
  const rate = await deps.upgradeLimit.consume(client.ip)
  if (!rate.ok) throw new ApiError('RATE_LIMITED', 'Too many connection attempts from this address; retry later.', rate.retryAfterSec)
  if (target.query !== '') refuseTokenInQuery(new URLSearchParams(target.query))
  if (!isOriginAllowed(req, config.allowedOrigins)) throw new ApiError('ORIGIN_NOT_ALLOWED')
  const creds = readHandshakeCredentials(req)
  if (!creds) throw new ApiError('UNAUTHORIZED', 'Token and Username are required.')
  // Checked again (with the user cap) right before the upgrade; this early pass spares the store.
  if (registry.countForIp(client.ip) >= config.maxConnectionsPerIp) throw tooMany('IP address')
  const found = await sessions.authenticateWithDevices(creds.token, creds.username, deps.liveSince(deps.now()))
  // Backoffice sessions authenticate admin HTTP calls only, never the chat socket.
  if (found?.auth.session.kind !== 'user') throw new ApiError('UNAUTHORIZED')
  const { auth, devices } = found
  const connectionId = createConnectionId()
  // `reject`: the last step, so that a claim taken is either used by the upgrade or released by it.
  if (config.duplicatePolicy === 'reject' && !(await claimPair(auth, connectionId, deps))) throw new ApiError('SESSION_IN_USE')
  if (config.duplicatePolicy === 'revoke' && (await isPairLive(auth, devices, deps))) {
    // A second socket for one pair means the token leaked; the session dies everywhere.
    await sessions.revoke([auth.session.id], 'duplicate_revoke')
    throw new ApiError('UNAUTHORIZED', 'This session was revoked: it was used from two places at once.')
  }
  return { auth, client, devices: devices.map((d) => toSessionView(d.session, d.connections)), connectionId }
}

/**
 * `reject`: takes the session's claim for this connection in one atomic store statement, so two
 * nodes (or two handshakes here) can never both admit the pair. A socket of the pair here refuses
 * without asking the store; a claim held by a node that is no longer live is taken over.
 */
async function claimPair(auth: AuthContext, connectionId: string, deps: HandshakeDeps): Promise<boolean> {
  if (deps.registry.countForSession(auth.session.id) > 0) return false
  const now = deps.now()
  const claim = { sessionId: auth.session.id, nodeId: deps.nodeId, connectionId, claimedAt: now }
  return deps.store.claimSession(claim, deps.liveSince(now))
}

/**
 * The checks that must hold at the instant of the upgrade, after every await: draining, a
 * revocation that raced the lookup, the connection caps and (under `reject`) a duplicate.
 */
export function admitNow(adm: Admission, deps: HandshakeDeps): void {
  const { config, registry } = deps
  const { session, user } = adm.auth
  if (deps.isDraining()) throw new ApiError('SHUTTING_DOWN')
  if (deps.wasJustRevoked(session.id)) throw new ApiError('UNAUTHORIZED')
  const sameSession = registry.countForSession(session.id)
  if (sameSession > 0 && config.duplicatePolicy === 'reject') throw new ApiError('SESSION_IN_USE')
  if (registry.countForIp(adm.client.ip) >= config.maxConnectionsPerIp) throw tooMany('IP address')
  // Under `replace` the pair's older sockets are about to close: they do not count against the cap.
  const replaced = config.duplicatePolicy === 'replace' ? sameSession : 0
  if (registry.countForUser(user.id) - replaced >= config.maxConnectionsPerUser) throw tooMany('user')
}

/**
 * Whether the pair already has a live socket here or on another live node (`revoke`).
 * `devices` holds the store's counts as the handshake read them.
 */
async function isPairLive(auth: AuthContext, devices: DeviceRecord[], deps: HandshakeDeps): Promise<boolean> {
  const { registry } = deps
  const id = auth.session.id
  if (registry.countForSession(id) > 0) return true
  // No socket here and no row anywhere: nobody holds the pair.
  if (!devices.some((d) => d.session.id === id && d.connections > 0)) return false
  // The rows may be this node's sockets closed moments ago, still queued for removal. After a
  // flush the store holds exactly this node's live rows, so any surplus is another node's.
  await registry.flush()
  const counts = await deps.store.countUserConnections(auth.user.id, deps.liveSince(deps.now()))
  return (counts.get(id) ?? 0) > registry.countForSession(id)
}

function checkUpgradeHeaders(req: IncomingMessage): void {
  const version = req.headers['sec-websocket-version']
  if (
    req.method !== 'GET' ||
    req.headers.upgrade?.toLowerCase() !== 'websocket' ||
    !KEY.test(req.headers['sec-websocket-key'] ?? '') ||
    (version !== '13' && version !== '8')
  ) {
    throw new ApiError('BAD_REQUEST', 'Not a valid WebSocket upgrade.')
  }
}

const tooMany = (per: string) => new ApiError('TOO_MANY_CONNECTIONS', `Too many connections for this ${per}; retry later.`, CAP_RETRY_AFTER_S)
