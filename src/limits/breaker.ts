/**
 * A circuit breaker in front of one dependency. Closed: every call goes to it. After a failure it
 * opens for `coolDownMs`: callers take their fallback at once instead of waiting for another
 * timeout. Then exactly one call (the probe) tries the dependency again; its success closes the
 * breaker, its failure opens it for another cool-down. Others keep the fallback while it runs.
 */
export interface Breaker {
  /** True when this call should try the dependency (closed, or this call is the probe). */
  tryDependency(): boolean
  /** The call that tried the dependency succeeded. */
  succeeded(): void
  /** The call that tried the dependency failed (a timeout, a lost connection). */
  failed(err: unknown): void
  readonly open: boolean
}

export interface BreakerOptions {
  coolDownMs: number
  now?: () => number
  /** Called once when the breaker opens and once when it closes again (for one log line each). */
  onChange?: (open: boolean, err?: unknown) => void
}

export function createBreaker(options: BreakerOptions): Breaker {
  const now = options.now ?? Date.now
  let openUntil = 0
  let isOpen = false
  let probing = false
  return {
    get open() {
      return isOpen
    },
    tryDependency() {
      if (!isOpen) return true
      if (probing || now() < openUntil) return false
      probing = true
      return true
    },
    succeeded() {
      // Only the probe closes it: a call that started before the breaker opened proves nothing.
      if (!isOpen || !probing) return
      probing = false
      isOpen = false
      options.onChange?.(false)
    },
    failed(err) {
      probing = false
      openUntil = now() + options.coolDownMs
      if (isOpen) return
      isOpen = true
      options.onChange?.(true, err)
    },
  }
}
