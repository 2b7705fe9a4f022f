import { digestsEqual, hashToken, MAX_TOKEN_LENGTH } from '../../src/auth/tokens.js'
import { isSessionLive, type Store } from '../../src/store/types.js'
import { toSessionView, type SessionView } from '../../src/views.js'

/** Who a valid token belongs to. */
export interface TokenOwner {
  sessionId: string
  userId: string
  username: string
}

/** A valid token's owner with the user's live devices (what a welcome lists). */
export interface TokenOwnerWithDevices extends TokenOwner {
  devices: SessionView[]
}

/** The shape checks chatgate makes before hashing; true when the pair is worth a lookup. */
function plausible(token: unknown, username: unknown): token is string {
  if (typeof token !== 'string' || typeof username !== 'string') return false
  return token.length > 0 && token.length <= MAX_TOKEN_LENGTH && username.length <= 64
}

/**
 * The handshake check chatgate makes, for the Socket.IO reference: sha256(token), one indexed
 * lookup through the same Store, a constant-time digest compare, the username compare and the
 * live/kind/disabled checks. No sliding-expiry write (a reference does the least it must).
 */
export async function lookupToken(store: Store, token: unknown, username: unknown, now = Date.now()): Promise<TokenOwner | null> {
  if (!plausible(token, username)) return null
  const hash = hashToken(token)
  const found = await store.findSessionByTokenHash(hash)
  if (!found || !digestsEqual(found.tokenHash, hash)) return null
  if (found.user.username !== (username as string).toLowerCase()) return null
  if (found.user.disabled || found.session.kind !== 'user' || !isSessionLive(found.session, now)) return null
  return { sessionId: found.session.id, userId: found.user.id, username: found.user.username }
}

/**
 * The same check, reading the token's session and the user's device list in one statement
 * (`findSessionWithDevices`, chatgate's handshake read): what the same-work and Socket.IO
 * references do per handshake.
 */
export async function lookupWithDevices(
  store: Store,
  token: unknown,
  username: unknown,
  now: number,
  aliveSince: number,
): Promise<TokenOwnerWithDevices | null> {
  if (!plausible(token, username)) return null
  const hash = hashToken(token)
  const found = await store.findSessionWithDevices(hash, now, aliveSince)
  if (!found || !digestsEqual(found.tokenHash, hash)) return null
  if (found.user.username !== (username as string).toLowerCase()) return null
  if (found.user.disabled || found.session.kind !== 'user' || !isSessionLive(found.session, now)) return null
  return {
    sessionId: found.session.id,
    userId: found.user.id,
    username: found.user.username,
    devices: found.devices.map((d) => toSessionView(d.session, d.connections)),
  }
}
