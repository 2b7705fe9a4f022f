import WebSocket from 'ws'
import { SUBPROTOCOL } from '../gateway/subprotocol.js'
import { ChatgateClient as Client, type ClientOptions, type Transport } from './client.js'
import { parseRetryAfter } from './http.js'
import type { SocketLike } from './socket.js'

/**
 * Node's transport: `ws` with the Token and Username headers (no URL parameter, no subprotocol
 * credentials). Unlike a browser, it reads a refused upgrade's status and `Retry-After` itself
 * (decision 0354), so a refusal costs the server no `GET /session` probe.
 */
const nodeTransport: Transport = {
  openSocket: (url, { token, username }) => {
    const ws = new WebSocket(url, [SUBPROTOCOL], { headers: { Token: token, Username: username } })
    const socket = ws as unknown as SocketLike
    ws.on('unexpected-response', (_req, res) => {
      // node keeps one Retry-After (it drops duplicates of this header).
      socket.refusal = { status: res.statusCode ?? 0, retryAfterSec: parseRetryAfter(res.headers['retry-after']) }
      res.resume()
      // Still connecting: ws aborts the handshake and closes with 1006, which the connection reads with the refusal.
      ws.terminate()
    })
    return socket
  },
  seesRefusals: true,
}

/** The chatgate client for Node 20+ (`chatgate/client`). */
export class ChatgateClient extends Client {
  constructor(options: ClientOptions) {
    super(options, nodeTransport)
  }
}

export type * from './types.js'
export { ChatgateError } from './errors.js'
