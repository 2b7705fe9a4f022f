import type { LiveConnection } from './connection.js'
import type { Registry } from './registry.js'

/** A peer that has not answered this many pings in a row is terminated. */
export const MAX_MISSED_PINGS = 2

/**
 * How many slices one heartbeat period is cut into. Pinging 19k sockets in one loop blocks the
 * event loop for tens of milliseconds once a period (and their pongs arrive in one burst); in 30
 * slices each turn handles a thirtieth (decision 0350).
 */
export const HEARTBEAT_SLICES = 30

/**
 * Pings every live socket once every `heartbeatMs`, spread over the period: every
 * `heartbeatMs / HEARTBEAT_SLICES` it takes the next slice of one pass over the registry, and the
 * last slice finishes the pass, so each socket is pinged once per period and the work per period
 * stays one ping per live socket. A socket with MAX_MISSED_PINGS pings unanswered is terminated
 * (its device goes offline through the normal close path). A pong resets the count.
 */
export class Liveness {
  private timer: NodeJS.Timeout | null = null
  /** The pass in progress: a Map iterator visits entries added after it started and skips removed ones. */
  private pass: Iterator<LiveConnection> | null = null
  private perSlice = 0
  private slice = 0

  constructor(private readonly deps: { registry: Registry; heartbeatMs: number; slices?: number }) {}

  private get slices(): number {
    return Math.max(1, Math.floor(this.deps.slices ?? HEARTBEAT_SLICES))
  }

  start(): void {
    this.timer = setInterval(() => this.step(), Math.max(1, this.deps.heartbeatMs / this.slices))
    this.timer.unref()
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = null
    this.pass = null
  }

  /** One slice: the first of a period starts a pass over the registry, the last one finishes it. */
  step(): void {
    if (this.slice === 0) {
      this.pass = this.deps.registry.values()
      this.perSlice = Math.ceil(this.deps.registry.size / this.slices)
    }
    const last = this.slice === this.slices - 1
    this.visit(last ? Number.POSITIVE_INFINITY : this.perSlice)
    this.slice = last ? 0 : this.slice + 1
  }

  /** A whole period at once: pings (or terminates) every live socket now. */
  tick(): void {
    this.pass = this.deps.registry.values()
    this.visit(Number.POSITIVE_INFINITY)
  }

  private visit(budget: number): void {
    const pass = this.pass
    if (!pass) return
    for (let n = 0; n < budget; n++) {
      const next = pass.next()
      if (next.done) {
        this.pass = null
        return
      }
      const conn = next.value
      if (conn.missedPings >= MAX_MISSED_PINGS) {
        conn.terminate('heartbeat')
        continue
      }
      conn.missedPings++
      conn.ws.ping()
    }
  }
}
