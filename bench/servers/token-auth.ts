import { digestsEqual, hashToken, MAX_TOKEN_LENGTH } from '../../src/auth/tokens.js'
import { isSessionLive, type Store } from '../../src/store/types.js'

/** Who a valid token belongs to. */
export interface TokenOwner {
  sessionId: string
  userId: string
  username: string
}

/**
 * The handshake check chatgate makes, for the Socket.IO reference: sha256(token), one indexed
 * lookup through the same Store, a constant-time digest compare, the username compare and the
 * live/kind/disabled checks. No sliding-expiry write (a reference does the least it must).
 */
export async function lookupToken(store: Store, token: unknown, username: unknown, now = Date.now()): Promise<TokenOwner | null> {
  if (typeof token !== 'string' || typeof username !== 'string') return null
  if (token.length === 0 || token.length > MAX_TOKEN_LENGTH || username.length > 64) return null
  const hash = hashToken(token)
  const found = await store.findSessionByTokenHash(hash)
  if (!found || !digestsEqual(found.tokenHash, hash)) return null
  if (found.user.username !== username.toLowerCase()) return null
  if (found.user.disabled || found.session.kind !== 'user' || !isSessionLive(found.session, now)) return null
  return { sessionId: found.session.id, userId: found.user.id, username: found.user.username }
}
