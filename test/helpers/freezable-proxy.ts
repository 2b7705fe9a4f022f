import { createConnection, createServer, type Socket } from 'node:net'

/**
 * A TCP proxy whose open connections can be frozen: both sockets stay open but no byte passes and
 * neither side's close reaches the other: a server that went silent, as a client sees it. New
 * connections after a freeze pass normally.
 */
export interface FreezableProxy {
  readonly port: number
  /** How many connections it accepted. */
  readonly accepted: number
  freeze(): void
  close(): Promise<void>
}

export async function startFreezableProxy(targetPort: number): Promise<FreezableProxy> {
  const pairs = new Set<{ client: Socket; upstream: Socket; frozen: boolean }>()
  let accepted = 0
  const server = createServer((client) => {
    accepted++
    const upstream = createConnection({ host: '127.0.0.1', port: targetPort })
    const pair = { client, upstream, frozen: false }
    pairs.add(pair)
    const link = (from: Socket, to: Socket) => {
      from.on('data', (d) => {
        if (!pair.frozen) to.write(d)
      })
      from.on('close', () => {
        if (!pair.frozen) to.destroy()
      })
      from.on('error', () => undefined)
    }
    link(client, upstream)
    link(upstream, client)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return {
    port: (server.address() as { port: number }).port,
    get accepted() {
      return accepted
    },
    freeze() {
      for (const p of pairs) p.frozen = true
    },
    async close() {
      for (const p of pairs) {
        p.client.destroy()
        p.upstream.destroy()
      }
      await new Promise((r) => server.close(r))
    },
  }
}
