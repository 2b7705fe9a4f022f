import { createConnection, createServer, type Server, type Socket } from 'node:net'
import { joinSockets } from './join-sockets.js'

/**
 * A TCP proxy to a shared server (Redis) that a test can take away and bring back on the same
 * port: an outage as the node sees it, without touching the server other people use.
 */
export interface TcpProxy {
  readonly port: number
  /** Refuses new connections and cuts the open ones (the server "goes away"). */
  stop(): Promise<void>
  /** Listens again on the same port (the server "is back"). */
  start(): Promise<void>
}

export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<Socket>()
  let server: Server | null = null
  let port = 0

  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const s = createServer((client) => {
        const upstream = createConnection({ host: targetHost, port: targetPort })
        joinSockets(client, upstream, sockets)
      })
      s.once('error', reject)
      s.listen(port, '127.0.0.1', () => {
        port = (s.address() as { port: number }).port
        server = s
        resolve()
      })
    })

  await listen()
  return {
    get port() {
      return port
    },
    async stop() {
      const s = server
      server = null
      for (const sock of sockets) sock.destroy()
      if (s) await new Promise<void>((resolve) => s.close(() => resolve()))
    },
    start: listen,
  }
}
