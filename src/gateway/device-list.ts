import type { SessionView } from '../views.js'
import type { Registry } from './registry.js'

/**
 * Corrects the connection counts of a device list read from the store with this node's registry,
 * which is ahead of the write-behind rows by at most one event-loop turn.
 */
export function withLocalCounts(devices: SessionView[], registry: Registry): SessionView[] {
  return devices.map((d) => {
    const local = registry.countForSession(d.session_id)
    return local > d.connections ? { ...d, connections: local, online: true } : d
  })
}
