import { createPasswordHasher, type PasswordHasher } from '../../src/auth/passwords.js'

/** One call that reached the hasher: which method, and the UTF-8 byte length of the password. */
export interface HasherCall {
  op: 'hash' | 'compare' | 'compareDummy'
  bytes: number
}

/** A real bcrypt pool that records every call made to it, so tests can prove "no hashing". */
export interface HasherSpy extends PasswordHasher {
  readonly calls: HasherCall[]
  /** Calls whose password was longer than `bytes`. */
  callsOver(bytes: number): HasherCall[]
}

export function createHasherSpy(options: { cost: number; threads?: number; maxQueue?: number }): HasherSpy {
  const real = createPasswordHasher({ cost: options.cost, threads: options.threads ?? 1, maxQueue: options.maxQueue ?? 1000 })
  const calls: HasherCall[] = []
  const record = (op: HasherCall['op'], password: string) => calls.push({ op, bytes: Buffer.byteLength(password, 'utf8') })
  return {
    calls,
    callsOver: (bytes) => calls.filter((c) => c.bytes > bytes),
    hash(password) {
      record('hash', password)
      return real.hash(password)
    },
    compare(password, hash) {
      record('compare', password)
      return real.compare(password, hash)
    },
    compareDummy(password) {
      record('compareDummy', password)
      return real.compareDummy(password)
    },
    get queueDepth() {
      return real.queueDepth
    },
    close: () => real.close(),
  }
}
