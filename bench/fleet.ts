import { startClient, type LoadClient } from './processes.js'

/** Loopback source addresses the fleet dials from, so that no (source, destination) pair runs out of ephemeral ports. */
export const SOURCE_ADDRESSES = Array.from({ length: 8 }, (_, i) => `127.0.0.${i + 2}`)

/** One process of the load-generator fleet and the source addresses it dials from. */
export interface FleetMember {
  client: LoadClient
  addresses: string[]
}

/**
 * Starts `n` more load-generator processes (pinned to `cpu`, like the main one), each with its
 * share of SOURCE_ADDRESSES: one process holds at most the open-files limit in sockets, so
 * holding ~19k needs several.
 */
export async function startFleet(n: number, cpu: number | null): Promise<FleetMember[]> {
  const clients = await Promise.all(Array.from({ length: n }, () => startClient(cpu)))
  return clients.map((client, i) => ({ client, addresses: SOURCE_ADDRESSES.filter((_, a) => a % n === i) }))
}

export async function stopFleet(fleet: FleetMember[]): Promise<void> {
  await Promise.all(fleet.map((m) => m.client.stop()))
}

/** `items` cut into `n` contiguous parts of near-equal length. */
export function splitEvenly<T>(items: readonly T[], n: number): T[][] {
  return Array.from({ length: n }, (_, i) => items.slice(Math.floor((i * items.length) / n), Math.floor(((i + 1) * items.length) / n)))
}
