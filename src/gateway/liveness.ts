import type { Registry } from './registry.js'

/** A peer that has not answered this many pings in a row is terminated. */
export const MAX_MISSED_PINGS = 2

/**
 * Pings every live socket every `heartbeatMs`; a socket with MAX_MISSED_PINGS pings unanswered is
 * terminated (its device goes offline through the normal close path). A pong resets the count.
 */
export class Liveness {
  private timer: NodeJS.Timeout | null = null

  constructor(private readonly deps: { registry: Registry; heartbeatMs: number }) {}

  start(): void {
    this.timer = setInterval(() => this.tick(), this.deps.heartbeatMs)
    this.timer.unref()
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = null
  }

  tick(): void {
    for (const conn of this.deps.registry.values()) {
      if (conn.missedPings >= MAX_MISSED_PINGS) {
        conn.terminate('heartbeat')
        continue
      }
      conn.missedPings++
      conn.ws.ping()
    }
  }
}
