import type { Logger } from 'pino'
import { logTaskFailure } from '../health/task-errors.js'
import { listUserDevices } from '../auth/devices.js'
import type { Store } from '../store/types.js'
import { withLocalCounts } from './device-list.js'
import { devicesFrame } from './frames.js'
import type { Registry } from './registry.js'

/** Changes of one user's devices within this window become one `devices` frame. */
export const DEVICES_COALESCE_MS = 50

interface PendingChange {
  /** Connections whose own open or close caused the change. */
  causes: Set<string>
  /** True when some change had no connection behind it (a revocation, another node): nobody is skipped. */
  uncaused: boolean
  /** True when a change happened on this node (other nodes must then be told). */
  local: boolean
}

export interface DeviceNotifierDeps {
  store: Store
  registry: Registry
  log: Logger
  now: () => number
  /** The oldest heartbeat of a live node at `now` (which nodes count in the lists). */
  liveSince: (now: number) => number
  /** Tells the other nodes which users' devices changed here. */
  announce: (userIds: string[]) => void
}

/**
 * Pushes `devices` frames to a user's other live sockets when one of the user's devices comes
 * online, goes offline or is revoked, coalescing bursts per user. A socket whose own open is the
 * only change is skipped: its welcome already carried the list.
 */
export class DeviceNotifier {
  private pending = new Map<string, PendingChange>()
  private timer: NodeJS.Timeout | null = null
  private running: Promise<void> | null = null
  private stopped = false
  private idleWaiters: (() => void)[] = []

  constructor(private readonly deps: DeviceNotifierDeps) {}

  /** Notes that the user's device list changed; `cause` is the connection that opened or closed. */
  changed(userId: string, cause: string | null, origin: 'local' | 'remote'): void {
    if (this.stopped) return
    let p = this.pending.get(userId)
    if (!p) {
      p = { causes: new Set(), uncaused: false, local: false }
      this.pending.set(userId, p)
    }
    if (cause !== null) p.causes.add(cause)
    else p.uncaused = true
    if (origin === 'local') p.local = true
    this.timer ??= setTimeout(() => {
      this.timer = null
      this.running = this.pushAll().finally(() => {
        this.running = null
        if (!this.timer) this.wakeIdleWaiters()
      })
    }, DEVICES_COALESCE_MS)
  }

  /** Resolves once no change is pending and no push is running (tests, shutdown). */
  settled(): Promise<void> {
    if (!this.timer && !this.running) return Promise.resolve()
    return new Promise((resolve) => this.idleWaiters.push(resolve))
  }

  /** Drops what is pending and waits for a push in progress. */
  async stop(): Promise<void> {
    this.stopped = true
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    this.pending.clear()
    await this.running
    this.wakeIdleWaiters()
  }

  private wakeIdleWaiters(): void {
    const waiters = this.idleWaiters
    this.idleWaiters = []
    for (const wake of waiters) wake()
  }

  private async pushAll(): Promise<void> {
    const batch = this.pending
    this.pending = new Map()
    try {
      // The store must hold this node's rows before anyone (here or on another node) reads them.
      await this.deps.registry.flush()
      const localUsers = [...batch].filter(([, p]) => p.local).map(([u]) => u)
      if (localUsers.length > 0) this.deps.announce(localUsers)
      for (const [userId, change] of batch) {
        if (this.stopped) return
        await this.pushTo(userId, change)
      }
    } catch (err) {
      logTaskFailure(this.deps.log, err, { event: 'devices_push_failed' }, 'could not push device lists')
    }
  }

  private async pushTo(userId: string, change: PendingChange): Promise<void> {
    const onlyCause = change.causes.size === 1 && !change.uncaused ? [...change.causes][0] : undefined
    const recipients = () => this.deps.registry.ofUser(userId).filter((c) => c.id !== onlyCause)
    if (recipients().length === 0) return
    const now = this.deps.now()
    const devices = await listUserDevices(this.deps.store, userId, now, this.deps.liveSince(now))
    const frame = devicesFrame(withLocalCounts(devices, this.deps.registry))
    for (const conn of recipients()) conn.send(frame)
  }
}
