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

/** True for the URLs that select PostgreSQL: `postgres://` or `postgresql://`. */
export const isPostgresUrl = (url: string) => /^postgres(ql)?:\/\//i.test(url)

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
  getTypeParser: (oid, format) =>
    oid === INT8_OID && format !== 'binary' ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format),
}

export interface PoolOptions {
  /** Connections per node (default 10). */
  max?: number
  /** Told about errors of idle connections (a server restart), which must not crash the node. */
  onError?: (err: Error) => void
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
    connectionTimeoutMillis: 5_000,
    types,
  })
  pool.on('error', (err) => options.onError?.(err))
  return pool
}

/** Runs `work` in one transaction on one pooled connection: COMMIT on success, ROLLBACK on a throw. */
export async function inTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
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
