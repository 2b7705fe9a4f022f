import { createConnection, createServer, type Socket } from 'node:net'
import { joinSockets } from './join-sockets.js'

/** A TCP proxy whose target port can be switched: the load balancer in front of a rolling restart. */
export interface SwitchProxy {
  readonly port: number
  /** Where new connections go; open ones stay where they are. */
  target: number
  close(): Promise<void>
}

export async function startSwitchProxy(target: number): Promise<SwitchProxy> {
  const sockets = new Set<Socket>()
  const proxy = { port: 0, target, close: async () => undefined }
  const server = createServer((client) => {
    const upstream = createConnection({ host: '127.0.0.1', port: proxy.target })
    joinSockets(client, upstream, sockets)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  proxy.port = (server.address() as { port: number }).port
  proxy.close = async () => {
    for (const s of sockets) s.destroy()
    await new Promise((r) => server.close(r))
  }
  return proxy
}
