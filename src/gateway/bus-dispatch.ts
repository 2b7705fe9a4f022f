import type { Logger } from 'pino'
import type { Bus, BusEvent } from '../cluster/bus.js'
import type { Config } from '../config.js'
import type { LiveConnection } from './connection.js'
import type { DeviceNotifier } from './device-notifier.js'
import type { PushDelivery } from './push-delivery.js'
import type { Registry } from './registry.js'
import type { RevocationWatcher } from './revocation-watcher.js'
import type { Revocations } from './revocations.js'

export interface BusDispatchDeps {
  bus: Bus
  nodeId: string
  duplicatePolicy: Config['duplicatePolicy']
  registry: Registry
  watcher: RevocationWatcher
  revocations: Revocations
  notifier: DeviceNotifier
  push: PushDelivery
  log: Logger
}

/**
 * What the gateway does with each event other nodes (and this one) publish: close revoked and
 * replaced sockets, deliver pushes, refresh device lists. Returns the unsubscribe function. One
 * event that fails to apply is logged and never keeps the next one from being handled.
 */
export function subscribeToBus(deps: BusDispatchDeps): () => void {
  const { bus, nodeId, registry, watcher, revocations, notifier, push, log } = deps
  function onEvent(event: BusEvent): void {
    switch (event.type) {
      case 'sessions_revoked':
        watcher.markHandled(event.sessionIds)
        revocations.apply(event.sessionIds, 'bus', event.revokedAt)
        return
      case 'session_connected':
        // Another node accepted this pair: under `replace` its socket wins over older ones here.
        if (event.nodeId === nodeId || deps.duplicatePolicy !== 'replace') return
        for (const c of registry.ofSession(event.sessionId)) if (isOlder(c, event)) c.revoke('SESSION_REPLACED')
        return
      case 'user_event':
        push.onUserEvent(event)
        return
      case 'user_event_delivered':
        push.onDelivered(event)
        return
      case 'devices_changed':
        if (event.nodeId === nodeId) return
        for (const userId of event.userIds) if (registry.hasUser(userId)) notifier.changed(userId, null, 'remote')
        return
    }
  }
  return bus.subscribe((event) => {
    try {
      onEvent(event)
    } catch (err) {
      log.error({ err, event: 'bus_event_failed', type: event.type }, 'could not handle a bus event')
    }
  })
}

/**
 * Whether a local socket of the pair is older than the one another node accepted (so it is the
 * one replaced). Equal times (clocks tick in ms) are broken by connection id, so that exactly one
 * of two sockets accepted at once on two nodes survives.
 */
function isOlder(conn: LiveConnection, other: { connectedAt: number; connectionId: string }): boolean {
  return conn.connectedAt < other.connectedAt || (conn.connectedAt === other.connectedAt && conn.id < other.connectionId)
}
