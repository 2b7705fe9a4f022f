/** The pacer's bounds come from config: UPGRADE_SLICE_MS (5), UPGRADE_QUEUE_MAX (5000), UPGRADE_QUEUE_WAIT_MS (5000). */
export interface PacerOptions<T> {
  /** Begins the handshake work of one upgrade (its awaits may finish later). */
  begin: (item: T) => void
  /** Refuses an upgrade that cannot wait (queue full or too slow): 503 OVERLOADED. */
  refuse: (item: T) => void
  /** True when the item's client is gone (skipped, never begun). */
  gone: (item: T) => boolean
  sliceMs: number
  maxQueued: number
  maxWaitMs: number
  now: () => number
  /** Runs `fn` after the event loop's next poll for I/O (setImmediate). */
  defer?: (fn: () => void) => void
}

/**
 * Paces WebSocket upgrades so that a burst (thousands of clients reconnecting at once after a
 * restart) cannot hold the event loop: within one loop turn, upgrades begin at once until they
 * have used `sliceMs`; the rest wait in arrival order and begin one per turn after the loop has
 * polled for I/O, so `/healthz`, pings and other requests are served between them. An upgrade
 * arriving while `maxQueued` wait, or while the oldest has waited `maxWaitMs`, is refused at once
 * (cheap) instead of queuing behind work the node cannot finish in time (decision 0351).
 */
export class HandshakePacer<T> {
  private queue: { item: T; at: number }[] = []
  private head = 0
  private turnStartedAt: number | null = null
  private turnEndArmed = false
  private readonly defer: (fn: () => void) => void

  constructor(private readonly o: PacerOptions<T>) {
    this.defer = o.defer ?? ((fn) => void setImmediate(fn))
  }

  /** Upgrades waiting for their turn. */
  get waiting(): number {
    return this.queue.length - this.head
  }

  submit(item: T): void {
    const now = this.o.now()
    if (this.waiting === 0 && this.hasBudget(now)) {
      this.beginNow(item, now)
      return
    }
    // Arrival order: a waiting upgrade goes before this one while the turn still has time.
    if (this.waiting > 0 && this.hasBudget(now)) this.beginNext(now)
    if (this.waiting >= this.o.maxQueued || (this.waiting > 0 && now - this.queue[this.head]!.at >= this.o.maxWaitMs)) {
      this.o.refuse(item)
      return
    }
    this.queue.push({ item, at: now })
    this.armTurnEnd()
  }

  private hasBudget(now: number): boolean {
    return this.turnStartedAt === null || now - this.turnStartedAt < this.o.sliceMs
  }

  private beginNow(item: T, now: number): void {
    if (this.turnStartedAt === null) {
      this.turnStartedAt = now
      this.armTurnEnd()
    }
    this.o.begin(item)
  }

  /** Begins the oldest waiting upgrade whose client is still there. */
  private beginNext(now: number): void {
    while (this.waiting > 0) {
      const next = this.queue[this.head]!
      this.queue[this.head++] = undefined as never
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue = this.queue.slice(this.head)
        this.head = 0
      }
      if (this.o.gone(next.item)) continue
      this.beginNow(next.item, now)
      return
    }
  }

  /**
   * The turn ends when the loop reaches its check phase, after this poll's I/O callbacks: the
   * budget is renewed and the oldest waiting upgrade begins, so at least one begins per turn
   * however busy the poll was.
   */
  private armTurnEnd(): void {
    if (this.turnEndArmed) return
    this.turnEndArmed = true
    this.defer(() => {
      this.turnEndArmed = false
      this.turnStartedAt = null
      if (this.waiting > 0) this.beginNext(this.o.now())
      if (this.waiting > 0) this.armTurnEnd()
    })
  }
}
