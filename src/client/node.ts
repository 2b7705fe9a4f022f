import WebSocket from 'ws'
import { SUBPROTOCOL } from '../gateway/subprotocol.js'
import { ChatgateClient as Client, type ClientOptions, type Transport } from './client.js'
import type { SocketLike } from './socket.js'

/** Node's transport: `ws` with the Token and Username headers (no URL parameter, no subprotocol credentials). */
const nodeTransport: Transport = {
  openSocket: (url, { token, username }) => new WebSocket(url, [SUBPROTOCOL], { headers: { Token: token, Username: username } }) as unknown as SocketLike,
}

/** The chatgate client for Node 20+ (`chatgate/client`). */
export class ChatgateClient extends Client {
  constructor(options: ClientOptions) {
    super(options, nodeTransport)
  }
}

export type * from './types.js'
export { ChatgateError } from './errors.js'
