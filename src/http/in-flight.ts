import type { ServerResponse } from 'node:http'

/** Counts requests until their response closes (answered, or the connection cut), for the drain. */
export class InFlight {
  private count = 0
  private waiters: (() => void)[] = []

  track(res: ServerResponse): void {
    // A connection already gone emits no 'close' for this response any more: nothing to wait for.
    if (!res.socket || res.socket.destroyed) return
    this.count++
    res.once('close', () => {
      this.count--
      if (this.count === 0) for (const resolve of this.waiters.splice(0)) resolve()
    })
  }

  /** Resolves once no tracked request is open, or after `timeoutMs` (SHUTDOWN_GRACE_MS) at the latest. */
  done(timeoutMs: number): Promise<void> {
    if (this.count === 0) return Promise.resolve()
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs)
      this.waiters.push(() => {
        clearTimeout(timer)
        resolve()
      })
    })
  }
}
