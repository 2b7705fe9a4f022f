import type { Server } from 'node:http'
import type { Connection, ConnectionEvents } from '../../src/client/connection.js'
import { ChatgateClient } from '../../src/client/node.js'
import { within } from './wait-for.js'

export { ChatgateClient }

/** Resolves with the next `name` event of a connection; rejects after `ms`. */
export function nextEvent<K extends keyof ConnectionEvents>(conn: Connection, name: K, ms = 10_000): Promise<ConnectionEvents[K]> {
  let off: () => void = () => undefined
  const seen = new Promise<ConnectionEvents[K]>((resolve) => {
    off = conn.on(name, resolve)
  })
  return within(seen, ms, `the connection's ${String(name)} event`).finally(off)
}

/** What reached a real server, counted on it: upgrade attempts and `GET /session` probes, with times. */
export interface Traffic {
  upgrades: number[]
  probes: number[]
  stop(): void
}

export function countTraffic(server: Server): Traffic {
  const traffic: Traffic = { upgrades: [], probes: [], stop: () => undefined }
  const onUpgrade = () => traffic.upgrades.push(performance.now())
  const onRequest = (req: { method?: string; url?: string }) => {
    if (req.method === 'GET' && req.url === '/session') traffic.probes.push(performance.now())
  }
  server.prependListener('upgrade', onUpgrade)
  server.prependListener('request', onRequest)
  traffic.stop = () => {
    server.off('upgrade', onUpgrade)
    server.off('request', onRequest)
  }
  return traffic
}

/** Fails the test file on an unhandled rejection (the SDK must never leave one). */
export function failOnUnhandledRejection(): string[] {
  const seen: string[] = []
  process.on('unhandledRejection', (e) => seen.push(String((e as Error)?.stack ?? e)))
  return seen
}
