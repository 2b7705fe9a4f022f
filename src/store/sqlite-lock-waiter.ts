import { setTimeout as sleep } from 'node:timers/promises'
import { StoreUnavailableError } from './types.js'

/** How long, in all, a store call waits for another process's write lock before it gives up. */
export const SQLITE_LOCK_WAIT_MS = 5_000
/** The first pause after a call met a locked file; each next pause doubles, up to the longest. */
const BUSY_FIRST_PAUSE_MS = 2
/** The longest pause between two attempts: a freed lock is seen within this. */
const BUSY_LONGEST_PAUSE_MS = 50

/**
 * SQLITE_BUSY and its extended codes (_RECOVERY, _SNAPSHOT, _TIMEOUT): another connection holds a
 * lock the statement needs, and the statement did nothing. SQLITE_LOCKED is not one of them: with
 * one connection and no shared cache it is a conflict inside this connection, which waiting cannot clear.
 */
export const isBusyError = (e: unknown): boolean => /^SQLITE_BUSY(_|$)/.test(String((e as { code?: unknown } | null)?.code))

export interface LockWaiterOptions {
  /** The bound of one call's wait (default SQLITE_LOCK_WAIT_MS). */
  maxWaitMs?: number
  /** Waits `ms` (tests pass a fake). */
  sleep?: (ms: number) => Promise<unknown>
  /** A monotonic clock in ms. */
  now?: () => number
}

/**
 * Runs the SQLite store's synchronous calls so that the event loop never waits on a lock: the
 * connection has no busy timeout, and a call that meets a file locked by another process is tried
 * again after a pause (2 ms doubling to 50 ms) until it goes through or its bound has passed
 * (StoreUnavailableError). A call is one statement or one transaction, and SQLITE_BUSY means it
 * changed nothing (better-sqlite3 rolls a failed transaction back whole, COMMIT included), so
 * trying it again can never apply a write twice.
 */
export class SqliteLockWaiter {
  private readonly maxWaitMs: number
  private readonly sleep: (ms: number) => Promise<unknown>
  private readonly now: () => number
  /** The last queued write, settled or not: a write that has to wait makes every later write wait behind it. */
  private queue: Promise<unknown> = Promise.resolve()
  /** Writes queued and not settled yet; while 0, a write runs at once, on its caller's turn. */
  private queued = 0

  constructor(options: LockWaiterOptions = {}) {
    this.maxWaitMs = options.maxWaitMs ?? SQLITE_LOCK_WAIT_MS
    this.sleep = options.sleep ?? sleep
    this.now = options.now ?? (() => performance.now())
  }

  /**
   * Runs a read at once. WAL readers need no write lock, so reads never queue behind waiting
   * writes; they wait only if the file itself is busy (WAL recovery, another process's exclusive lock).
   */
  read<T>(work: () => T): Promise<T> {
    return this.attempt(work, this.now() + this.maxWaitMs)
  }

  /**
   * Runs a write (one statement or one transaction) at once, unless writes are waiting for the
   * lock: then behind them, so that writes always apply in the order they were called.
   */
  write<T>(work: () => T): Promise<T> {
    const deadline = this.now() + this.maxWaitMs
    if (this.queued === 0) {
      try {
        return Promise.resolve(work())
      } catch (e) {
        if (!isBusyError(e)) return Promise.reject(e)
      }
    }
    this.queued++
    const result = this.queue.then(() => this.attempt(work, deadline))
    const settle = () => void this.queued--
    this.queue = result.then(settle, settle)
    return result
  }

  /** Resolves once every write queued so far has settled (before closing the connection). */
  async drain(): Promise<void> {
    await this.queue
  }

  /** Tries `work` until it is not busy; past `deadline`, gives up with StoreUnavailableError. */
  private async attempt<T>(work: () => T, deadline: number): Promise<T> {
    for (let pause = BUSY_FIRST_PAUSE_MS; ; pause = Math.min(pause * 2, BUSY_LONGEST_PAUSE_MS)) {
      try {
        return work()
      } catch (e) {
        if (!isBusyError(e)) throw e
        const left = deadline - this.now()
        if (left <= 0) {
          throw new StoreUnavailableError(`the database stayed locked by another process for ${this.maxWaitMs} ms`, { cause: e })
        }
        await this.sleep(Math.min(pause, left))
      }
    }
  }
}
