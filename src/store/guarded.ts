import type { DependencyHealth } from '../health/dependency-health.js'
import { StoreUnavailableError, type Store } from './types.js'
import { isPostgresUnreachable, isSqliteUnusable } from './unreachable.js'

/** How long a PostgreSQL store call may take in all before it is answered 503 (STORE_TIMEOUT_MS). */
export const STORE_TIMEOUT_MS = 800
/** PostgreSQL calls answered without the server: their success says nothing about it. */
const POSTGRES_LOCAL_CALLS = new Set<PropertyKey>(['externalChangeCounter'])
/**
 * SQLite calls that only read. In WAL mode reads go on while another process holds the write lock,
 * so their success does not mean the file is usable again: only a write's does (the heartbeat
 * writes every NODE_HEARTBEAT_MS).
 */
const SQLITE_READS = /^(find|list|count|has)|^externalChangeCounter$/

export interface StoreGuardOptions {
  /** Told about every call: success, or a failure to reach the store. */
  health: DependencyHealth
  /**
   * PostgreSQL only: the bound of one call, acquiring a connection included. SQLite calls are bounded
   * by the lock waiter instead (a call cut short there could still write after its caller gave up).
   */
  timeoutMs: number
}

/**
 * The store as the rest of the node uses it: a call that cannot reach the store (server down,
 * connection refused or cut, file unusable, or - PostgreSQL - no answer within `timeoutMs`)
 * rejects with StoreUnavailableError (answered 503 UNAVAILABLE), and every call tells `health`
 * whether the store answered, so the periodic tasks need not log each failure themselves.
 */
export function guardStore(store: Store, options: StoreGuardOptions): Store {
  const classify = store.kind === 'postgres' ? isPostgresUnreachable : isSqliteUnusable
  // A thrown value with hostile getters must reach the backstop as it is, not as the getter's error.
  const unreachable = (e: unknown) => {
    try {
      return classify(e)
    } catch {
      return false
    }
  }
  const timeoutMs = store.kind === 'postgres' ? options.timeoutMs : null
  const { health } = options

  /** Whether a call's success tells that the store is usable (see POSTGRES_LOCAL_CALLS, SQLITE_READS). */
  const provesUp = (name: PropertyKey) => (store.kind === 'postgres' ? !POSTGRES_LOCAL_CALLS.has(name) : typeof name === 'string' && !SQLITE_READS.test(name))

  async function guard<T>(name: PropertyKey, call: () => Promise<T>): Promise<T> {
    try {
      const result = await (timeoutMs === null ? call() : withDeadline(call(), timeoutMs))
      if (provesUp(name)) health.reportSuccess()
      return result
    } catch (e) {
      if (!unreachable(e)) {
        // The store answered (a conflict, a missing row): it is up. A bug in between says nothing.
        if (provesUp(name) && !(e instanceof TypeError || e instanceof RangeError)) health.reportSuccess()
        throw e
      }
      health.reportFailure(e)
      throw e instanceof StoreUnavailableError ? e : new StoreUnavailableError('the database is unreachable', { cause: e })
    }
  }

  // By function, not by name: a method replaced on the store (a test's spy) is wrapped afresh.
  const wrapped = new WeakMap<object, unknown>()
  return new Proxy(store, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target)
      if (typeof value !== 'function' || prop === 'close') return typeof value === 'function' ? value.bind(target) : value
      let fn = wrapped.get(value)
      if (!fn) {
        fn = (...args: unknown[]) => guard(prop, () => value.apply(target, args))
        wrapped.set(value, fn)
      }
      return fn
    },
  })
}

/** `work`, or StoreUnavailableError once `ms` have passed (the work itself is bounded by the pool's own timeouts). */
function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StoreUnavailableError(`the database did not answer within ${ms} ms`)), ms)
  })
  work.catch(() => undefined)
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer))
}
