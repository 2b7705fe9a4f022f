import { randomUUID } from 'node:crypto'
import type { BusEvent } from '../../src/cluster/bus.js'
import type { App } from '../../src/app.js'
import type { Store } from '../../src/store/types.js'

/**
 * Records a live connection exactly as the gateway does: a node heartbeat plus a connection row.
 * `heartbeatAt` in the past makes the node dead (older than 3 × NODE_HEARTBEAT_MS).
 */
export async function addConnectionRow(
  store: Store,
  sessionId: string,
  options: { nodeId?: string; heartbeatAt?: number; connectedAt?: number; ip?: string; userAgent?: string } = {},
): Promise<string> {
  const session = await store.findSessionById(sessionId)
  if (!session) throw new Error(`no session ${sessionId}`)
  const nodeId = options.nodeId ?? 'node-a'
  const now = Date.now()
  await store.heartbeatNode(nodeId, now - 1_000, options.heartbeatAt ?? now)
  const id = randomUUID()
  await store.applyConnectionChanges(
    [
      {
        id,
        sessionId,
        userId: session.userId,
        nodeId,
        ip: options.ip ?? '10.0.0.7',
        userAgent: options.userAgent ?? 'TestPhone/1.0',
        connectedAt: options.connectedAt ?? now,
      },
    ],
    [],
  )
  return id
}

/** Removes connection rows as the gateway does when sockets close. */
export async function removeConnectionRows(store: Store, ids: string[]): Promise<void> {
  await store.applyConnectionChanges([], ids)
}

/** Collects every bus event the app publishes from now on. */
export function captureBus(app: App): RevocationEvent[] {
  const events: RevocationEvent[] = []
  app.bus.subscribe((e) => {
    // revokedAt (the revocation's time, for the latency metric) is checked here and left out, so tests compare the rest.
    if (e.type !== 'sessions_revoked') return
    const { revokedAt, ...rest } = e
    if (revokedAt !== undefined && !Number.isSafeInteger(revokedAt)) throw new Error(`revokedAt is not a time: ${revokedAt}`)
    events.push(rest)
  })
  return events
}

type RevocationEvent = Extract<BusEvent, { type: 'sessions_revoked' }>
