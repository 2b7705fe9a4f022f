import { credentialProtocols } from '../gateway/subprotocol.js'
import { ChatgateClient as Client, type ClientOptions, type Transport } from './client.js'
import type { SocketLike } from './socket.js'

/** A page's transport: the global WebSocket with subprotocol credentials, and the `online` event. */
const browserTransport: Transport = {
  openSocket: (url, { token, username }) =>
    new (globalThis as unknown as { WebSocket: new (url: string, protocols: string[]) => SocketLike }).WebSocket(url, credentialProtocols(token, username)),
  onOnline: (listener) => {
    const target = globalThis as unknown as { addEventListener?: (n: string, l: () => void) => void; removeEventListener?: (n: string, l: () => void) => void }
    target.addEventListener?.('online', listener)
    return () => target.removeEventListener?.('online', listener)
  },
}

/** The chatgate client for browsers (`GET /client.js`). */
export class ChatgateClient extends Client {
  constructor(options: ClientOptions) {
    super(options, browserTransport)
  }
}

export type * from './types.js'
export { ChatgateError } from './errors.js'
