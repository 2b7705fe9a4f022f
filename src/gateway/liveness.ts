import type { LiveConnection } from './connection.js'

/** A peer that has not answered this many pings in a row is terminated. */
export const MAX_MISSED_PINGS = 2

/**
 * How many slices one heartbeat period is cut into. Pinging 19k sockets in one loop blocks the
 * event loop for tens of milliseconds once a period (and their pongs arrive in one burst); in 30
 * slices each step handles a thirtieth (decision 0350).
 */
export const HEARTBEAT_SLICES = 30

/**
 * Pings every live socket once every `heartbeatMs`, spread over the period: each socket joins one
 * of `slices` buckets when it opens (in turn, so they stay even), and every `heartbeatMs / slices`
 * the next bucket is pinged. A socket is therefore pinged exactly once per period at a fixed phase
 * (its first ping comes within one period of opening), and the work per period is one ping per live
 * socket. A socket with MAX_MISSED_PINGS pings unanswered is terminated at its next turn, 2 to 3
 * periods after its last pong (its device goes offline through the normal close path). A pong
 * resets the count.
 */
export class Liveness {
  private timer: NodeJS.Timeout | null = null
  private readonly buckets: Set<LiveConnection>[]
  private nextBucket = 0
  private step_ = 0

  constructor(private readonly deps: { heartbeatMs: number; slices?: number }) {
    const slices = Math.max(1, Math.floor(deps.slices ?? HEARTBEAT_SLICES))
    this.buckets = Array.from({ length: slices }, () => new Set<LiveConnection>())
  }

  start(): void {
    this.timer = setInterval(() => this.step(), Math.max(1, this.deps.heartbeatMs / this.buckets.length))
    this.timer.unref()
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = null
  }

  /** A socket that opened: it joins the next bucket in turn. */
  track(conn: LiveConnection): void {
    conn.heartbeatBucket = this.nextBucket
    this.buckets[this.nextBucket]!.add(conn)
    this.nextBucket = (this.nextBucket + 1) % this.buckets.length
  }

  /** A socket that closed. */
  untrack(conn: LiveConnection): void {
    this.buckets[conn.heartbeatBucket]?.delete(conn)
  }

  /** One slice of the period: pings (or terminates) the sockets of the next bucket. */
  step(): void {
    const bucket = this.buckets[this.step_]!
    this.step_ = (this.step_ + 1) % this.buckets.length
    // A terminated socket leaves its bucket later (on its close event); deleting while iterating a Set is safe anyway.
    for (const conn of bucket) {
      if (conn.missedPings >= MAX_MISSED_PINGS) {
        conn.terminate('heartbeat')
        continue
      }
      conn.missedPings++
      conn.ws.ping()
    }
  }
}
