import type { IncomingMessage } from 'node:http'
import { MAX_TOKEN_LENGTH } from '../auth/tokens.js'
import { ApiError } from '../errors.js'
import { readHeaderCredentials, type Credentials } from '../request/credentials.js'
import { SUBPROTOCOL, TOKEN_PREFIX, USERNAME_PREFIX } from './subprotocol.js'
/** Longest Sec-WebSocket-Protocol value read: room for the protocol, a token and a username. */
export const MAX_PROTOCOL_HEADER = 1024
// RFC 7230 token characters, as ws's own subprotocol parser accepts them.
const TCHARS = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/

/**
 * The Token + Username pair of an upgrade request: from the `Token`/`Username` headers or from the
 * browser subprotocol list `chatgate.v1, token.<t>, username.<u>`. None → null. Both forms, an
 * entry given twice, a malformed or over-long header → BAD_REQUEST; half a pair → UNAUTHORIZED.
 */
export function readHandshakeCredentials(req: IncomingMessage): Credentials | null {
  const fromProtocols = readProtocolCredentials(req.headers['sec-websocket-protocol'])
  if (fromProtocols && (req.headers.token !== undefined || req.headers.username !== undefined)) {
    throw new ApiError('BAD_REQUEST', 'Give credentials either as headers or as subprotocols, not both.')
  }
  return fromProtocols ?? readHeaderCredentials(req)
}

/** Parses the subprotocol form; null when the list carries no credential entry. */
export function readProtocolCredentials(header: string | undefined): Credentials | null {
  if (header === undefined) return null
  if (header.length > MAX_PROTOCOL_HEADER) throw new ApiError('BAD_REQUEST', 'Sec-WebSocket-Protocol is too long.')
  const seen = new Set<string>()
  const tokens: string[] = []
  const usernames: string[] = []
  for (const raw of header.split(',')) {
    const entry = raw.trim()
    if (!TCHARS.test(entry) || seen.has(entry)) throw new ApiError('BAD_REQUEST', 'Malformed Sec-WebSocket-Protocol header.')
    seen.add(entry)
    if (entry.startsWith(TOKEN_PREFIX)) tokens.push(entry.slice(TOKEN_PREFIX.length))
    else if (entry.startsWith(USERNAME_PREFIX)) usernames.push(entry.slice(USERNAME_PREFIX.length))
  }
  if (tokens.length === 0 && usernames.length === 0) return null
  if (tokens.length > 1 || usernames.length > 1) throw new ApiError('BAD_REQUEST', 'Token and username may be given once.')
  if (!seen.has(SUBPROTOCOL)) throw new ApiError('BAD_REQUEST', `Credentials in the subprotocol list need ${SUBPROTOCOL}.`)
  const [token, username] = [tokens[0], usernames[0]]
  if (token === undefined || username === undefined) {
    throw new ApiError('UNAUTHORIZED', 'Both token and username subprotocol entries are required.')
  }
  if (token.length === 0 || username.length === 0 || token.length > MAX_TOKEN_LENGTH || username.length > MAX_TOKEN_LENGTH) {
    throw new ApiError('BAD_REQUEST', 'Malformed token or username subprotocol entry.')
  }
  return { token, username }
}

/** ws's handleProtocols: select chatgate.v1 when offered, never a credential entry. */
export function selectSubprotocol(offered: Set<string>): string | false {
  return offered.has(SUBPROTOCOL) ? SUBPROTOCOL : false
}
