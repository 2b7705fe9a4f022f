import type { Logger } from 'pino'

/** While a dependency stays down, one `warn` per this many ms (DEPENDENCY_WARN_EVERY_MS). */
export const DEPENDENCY_WARN_EVERY_MS = 60_000
/** Outages remembered for the liveness window (older ones are long out of any window). */
const OUTAGES_KEPT = 16

/** A span of time in which this process could not reach a dependency; `to` is null while it lasts. */
export interface Outage {
  /** The last success before it (the first moment this process could no longer see). */
  from: number
  to: number | null
}

/** What /readyz and the liveness window read of a dependency. */
export interface DependencyStatus {
  readonly isUp: boolean
  /** The latest outages, oldest first (the last one open while the dependency is down). */
  outages(): readonly Outage[]
}

export interface DependencyHealthOptions {
  /** Named in every line (`store`, `redis`). */
  name: string
  log: Logger
  now?: () => number
  warnEveryMs?: number
  /** Added to every line (which server, which connection). */
  fields?: Record<string, unknown>
  /** The three messages, when the defaults (`<name> is unreachable; retrying quietly` …) will not do. */
  messages?: { down?: string; stillDown?: string; up?: string }
}

/**
 * The state of one dependency as this process sees it, fed by the callers that use it
 * (`reportSuccess`/`reportFailure`), and its logs kept quiet: one `error` when it goes down, one
 * `warn` per period while it stays down (with the failures counted), one `info` when it is back.
 * Failures in between are counted, never logged one by one.
 */
export class DependencyHealth implements DependencyStatus {
  private readonly now: () => number
  private readonly warnEveryMs: number
  private down = false
  private failures = 0
  private lastWarnAt = 0
  private lastSuccessAt: number
  private readonly spells: Outage[] = []
  private readonly recoveredListeners = new Set<() => void>()

  constructor(private readonly options: DependencyHealthOptions) {
    this.now = options.now ?? Date.now
    this.warnEveryMs = options.warnEveryMs ?? DEPENDENCY_WARN_EVERY_MS
    this.lastSuccessAt = this.now()
  }

  get isUp(): boolean {
    return !this.down
  }

  outages(): readonly Outage[] {
    return this.spells
  }

  /** Calls `listener` each time the dependency is back after an outage; returns the unsubscribe function. */
  onRecovered(listener: () => void): () => void {
    this.recoveredListeners.add(listener)
    return () => this.recoveredListeners.delete(listener)
  }

  /** A call reached the dependency. */
  reportSuccess(): void {
    const now = this.now()
    this.lastSuccessAt = now
    if (!this.down) return
    this.down = false
    const spell = this.spells[this.spells.length - 1]!
    spell.to = now
    const { name, log, fields, messages } = this.options
    log.info(
      { ...fields, event: 'dependency_up', dependency: name, failures: this.failures, down_ms: now - spell.from },
      messages?.up ?? `${name} is reachable again`,
    )
    this.failures = 0
    for (const listener of this.recoveredListeners) listener()
  }

  /** A call could not reach the dependency (`err` is logged once per outage, when it starts). */
  reportFailure(err: unknown): void {
    const now = this.now()
    const { name, log, fields, messages } = this.options
    this.failures++
    if (!this.down) {
      this.down = true
      this.lastWarnAt = now
      this.spells.push({ from: this.lastSuccessAt, to: null })
      if (this.spells.length > OUTAGES_KEPT) this.spells.shift()
      log.error({ ...fields, event: 'dependency_down', dependency: name, err }, messages?.down ?? `${name} is unreachable; retrying quietly`)
      return
    }
    if (now - this.lastWarnAt < this.warnEveryMs) return
    this.lastWarnAt = now
    const spell = this.spells[this.spells.length - 1]!
    log.warn(
      { ...fields, event: 'dependency_still_down', dependency: name, failures: this.failures, down_ms: now - spell.from, error: describe(err) },
      messages?.stillDown ?? `${name} is still unreachable`,
    )
  }
}

/** One line for an error (no stack): its code and message. */
const describe = (err: unknown): string => {
  const e = err as { code?: unknown; message?: unknown } | null
  const code = typeof e?.code === 'string' ? `${e.code}: ` : ''
  return `${code}${String(e?.message ?? err)}`
}
