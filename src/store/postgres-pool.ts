import { setTimeout as sleep } from 'node:timers/promises'
import pg from 'pg'

/** Where a PostgreSQL store lives: the server (connection string) and the schema inside it. */
export interface PostgresTarget {
  /** The URL without our own `schema` parameter, as `pg` understands it. */
  connectionString: string
  /** The schema every table lives in; `public` unless the URL says `?schema=NAME`. */
  schema: string
  /** Server `-c` options from the URL (`?options=`), kept so that ours can be appended. */
  serverOptions: string
}

/** Lowercase unquoted identifiers only, so the name needs no quoting anywhere. */
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/

/**
 * Splits DATABASE_URL into the connection string and the schema (`?schema=NAME`, else `public`).
 * Throws on a schema name that is not a plain lowercase identifier.
 */
export function parsePostgresUrl(url: string): PostgresTarget {
  const parsed = new URL(url)
  const schema = parsed.searchParams.get('schema') ?? 'public'
  if (!SCHEMA_NAME.test(schema)) {
    throw new Error(`invalid schema name in DATABASE_URL: use 1-63 characters of a-z, 0-9 and _, not starting with a digit`)
  }
  const serverOptions = parsed.searchParams.get('options') ?? ''
  parsed.searchParams.delete('schema')
  parsed.searchParams.delete('options')
  return { connectionString: parsed.toString(), schema, serverOptions }
}

/** bigint (int8) columns hold epoch milliseconds and counts: read them as numbers, not strings. */
const INT8_OID = 20
const types: pg.CustomTypesConfig = {
  getTypeParser: (oid, format) => (oid === INT8_OID && format !== 'binary' ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format)),
}

export interface PoolOptions {
  /** Connections per node (default 10). */
  max?: number
  /** Told about errors of idle connections (a server restart), which must not crash the node. */
  onError?: (err: Error) => void
  /**
   * Bound of acquiring a connection (connecting included) and of each query, client side and
   * server side (statement_timeout), so that no call waits on a server that is gone or hung
   * (nodes pass STORE_TIMEOUT_MS). Unset: 5 s to connect, queries unbounded (migrations).
   */
  timeoutMs?: number
}

/**
 * A pool whose every connection starts with `search_path` set to the target schema (a startup
 * option, so no pooled connection can ever run a query in the wrong schema).
 */
export function createPostgresPool(target: PostgresTarget, options: PoolOptions = {}): pg.Pool {
  const pool = new pg.Pool({
    connectionString: target.connectionString,
    options: `${target.serverOptions} -c search_path=${target.schema}`.trim(),
    application_name: 'chatgate',
    max: options.max ?? 10,
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: options.timeoutMs ?? 5_000,
    ...(options.timeoutMs === undefined ? {} : { query_timeout: options.timeoutMs, statement_timeout: options.timeoutMs }),
    types,
  })
  // The pool listens for errors only on idle connections; one that breaks while checked out (the
  // server stopped between two queries of a transaction) would emit an unhandled 'error' and end
  // the process. Every connection gets a listener of its own: the failure is the store's outage,
  // reported, and the query in flight fails on its own.
  pool.on('connect', (client) => client.on('error', (err) => options.onError?.(err)))
  pool.on('error', (err) => options.onError?.(err))
  return pool
}

/**
 * SQLSTATEs after which PostgreSQL has rolled the whole transaction back and asks for it to be run
 * again: serialization_failure (40001) and deadlock_detected (40P01).
 */
const CONFLICT_ABORTS = new Set(['40001', '40P01'])

/** True for an error that aborted a transaction because of a conflict with another one. */
const isConflictAbort = (e: unknown): boolean => CONFLICT_ABORTS.has(String((e as { code?: unknown } | null)?.code))

/** How many times a transaction runs at most while PostgreSQL keeps aborting it for a conflict. */
export const TRANSACTION_ATTEMPTS = 3
/** The pause after the first aborted attempt is 5-10 ms, after the second 10-20 ms (random: two conflicting callers part ways). */
const TRANSACTION_RETRY_BASE_MS = 10

/** How inTransaction retries; tests pass a fake sleep and random. */
export interface TransactionRetry {
  attempts?: number
  sleep?: (ms: number) => Promise<unknown>
  random?: () => number
}

/** The jittered pause after `failed` aborted attempts: half fixed, half random, doubling each time. */
const retryPauseMs = (failed: number, random: () => number) => TRANSACTION_RETRY_BASE_MS * 2 ** (failed - 1) * (0.5 + random() / 2)

/**
 * Runs `work` in one transaction on one pooled connection: COMMIT on success, ROLLBACK on a throw.
 * A transaction PostgreSQL aborted for a serialization failure or a deadlock changed nothing, so it
 * is run again from the start (up to TRANSACTION_ATTEMPTS in all); `work` must do nothing but
 * queries on its connection.
 */
export async function inTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>, retry: TransactionRetry = {}): Promise<T> {
  const attempts = retry.attempts ?? TRANSACTION_ATTEMPTS
  for (let attempt = 1; ; attempt++) {
    try {
      return await runTransaction(pool, work)
    } catch (e) {
      if (attempt >= attempts || !isConflictAbort(e)) throw e
      await (retry.sleep ?? sleep)(retryPauseMs(attempt, retry.random ?? Math.random))
    }
  }
}

/** One attempt of inTransaction. */
async function runTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect()
  let broken = false
  try {
    await client.query('BEGIN')
    const result = await work(client)
    await client.query('COMMIT')
    return result
  } catch (e) {
    // A connection that cannot even roll back is dropped from the pool, not reused.
    await client.query('ROLLBACK').catch(() => (broken = true))
    throw e
  } finally {
    client.release(broken)
  }
}
