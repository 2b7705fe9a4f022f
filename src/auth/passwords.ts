import { randomUUID } from 'node:crypto'
import { availableParallelism } from 'node:os'
import { Piscina } from 'piscina'
import { ApiError } from '../errors.js'
import { isComparablePassword, MAX_PASSWORD_BYTES } from './rules.js'

const workerFile = new URL('./password-worker.cjs', import.meta.url).href

/** Hashes and compares passwords on worker threads, with a bounded queue. */
export interface PasswordHasher {
  hash(password: string): Promise<string>
  /** False for a password over 72 bytes without any hashing work. */
  compare(password: string, hash: string): Promise<boolean>
  /** Spends one compare as if against a real hash: used when the account does not exist. */
  compareDummy(password: string): Promise<void>
  /** Tasks waiting for a worker (the login queue depth). */
  readonly queueDepth: number
  close(): Promise<void>
}

export interface PasswordHasherOptions {
  cost: number
  /** Worker threads; defaults to the number of cores. */
  threads?: number
  /** Tasks allowed to wait; beyond it calls fail fast with 503 OVERLOADED. */
  maxQueue: number
  /** Niceness of the worker threads (0 = the process's own priority). */
  nice?: number
}

/** Creates the bcrypt worker pool sized to the cores. */
export function createPasswordHasher(options: PasswordHasherOptions): PasswordHasher {
  const threads = options.threads ?? availableParallelism()
  const pool = new Piscina({ filename: workerFile, workerData: { nice: options.nice ?? 0 }, minThreads: threads, maxThreads: threads, idleTimeout: 60_000 })
  let dummyHash: Promise<string> | undefined
  const submit = <T>(task: object): Promise<T> => {
    if (pool.queueSize >= options.maxQueue) {
      return Promise.reject(new ApiError('OVERLOADED', 'Too many logins in progress; retry shortly.', 1))
    }
    return pool.run(task) as Promise<T>
  }
  return {
    hash(password) {
      if (!isComparablePassword(password)) throw new Error(`password over ${MAX_PASSWORD_BYTES} bytes reached the hasher`)
      return submit<string>({ op: 'hash', password, cost: options.cost })
    },
    async compare(password, hash) {
      if (!isComparablePassword(password)) return false
      return submit<boolean>({ op: 'compare', password, hash })
    },
    async compareDummy(password) {
      // Hash of a random secret at the configured cost, made once, so an unknown user costs the same.
      dummyHash ??= submit<string>({ op: 'hash', password: randomUUID(), cost: options.cost })
      await this.compare(password, await dummyHash)
    },
    get queueDepth() {
      return pool.queueSize
    },
    close: () => pool.destroy(),
  }
}
