/**
 * The browser form of WebSocket credentials, `chatgate.v1, token.<t>, username.<u>`: the names the
 * server parses (credentials.ts) and the client SDK offers (src/client/), with no Node import.
 */

/** The one subprotocol chatgate speaks; the server selects it and nothing else. */
export const SUBPROTOCOL = 'chatgate.v1'
export const TOKEN_PREFIX = 'token.'
export const USERNAME_PREFIX = 'username.'

/** The subprotocol list a browser offers to carry a Token + Username pair. */
export const credentialProtocols = (token: string, username: string): string[] => [SUBPROTOCOL, TOKEN_PREFIX + token, USERNAME_PREFIX + username]
