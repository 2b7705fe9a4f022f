import type { Socket } from 'node:net'

/**
 * Pipes a proxied connection both ways and ties their ends together: either side closing destroys
 * the other. Both are kept in `open` until they close, so the proxy can cut them all at once.
 */
export function joinSockets(client: Socket, upstream: Socket, open: Set<Socket>): void {
  for (const s of [client, upstream]) {
    open.add(s)
    s.on('close', () => open.delete(s))
    s.on('error', () => undefined)
  }
  client.pipe(upstream)
  upstream.pipe(client)
  client.on('close', () => upstream.destroy())
  upstream.on('close', () => client.destroy())
}
