import { randomBytes } from 'node:crypto'
import { createConnection } from 'node:net'
import { Redis } from 'ioredis'
import pg from 'pg'

/** The PostgreSQL server the service tests use (trust auth), without a schema. */
export const TEST_PG_URL = process.env.CHATGATE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
/** The Redis server the service tests use. */
export const TEST_REDIS_URL = process.env.CHATGATE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'

/**
 * Prefix of every schema a test creates. The runner sets one per run and drops whatever is left
 * under it at the end; a file run on its own gets one per process.
 */
export const TEST_SCHEMA_PREFIX = process.env.CHATGATE_TEST_PG_PREFIX ?? `cgt_${process.pid}_`

/** A fresh schema name under the run's prefix (lowercase, a valid unquoted identifier). */
export const newSchemaName = () => `${TEST_SCHEMA_PREFIX}${randomBytes(5).toString('hex')}`

/** DATABASE_URL of a schema on the test server. */
export function pgUrlFor(schema: string, base = TEST_PG_URL): string {
  const url = new URL(base)
  url.searchParams.set('schema', schema)
  return url.toString()
}

/** Runs `work` on a short-lived connection to the test server. */
export async function withPgClient<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: TEST_PG_URL, connectionTimeoutMillis: 3_000 })
  await client.connect()
  try {
    return await work(client)
  } finally {
    await client.end()
  }
}

/** Runs one statement on the test server on a short-lived connection. */
export function pgAdmin<R extends pg.QueryResultRow = any>(sql: string, values: unknown[] = []): Promise<pg.QueryResult<R>> {
  return withPgClient((client) => client.query<R>(sql, values))
}

/** Drops a test schema and everything in it. */
export async function dropSchema(schema: string): Promise<void> {
  if (!schema.startsWith('cgt_')) throw new Error(`refusing to drop a schema that is not a test schema: ${schema}`)
  await pgAdmin(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
}

/** Throws a message that says how to start PostgreSQL when the test server does not answer. */
export async function requirePostgres(): Promise<void> {
  try {
    await pgAdmin('SELECT 1')
  } catch (e) {
    const u = new URL(TEST_PG_URL)
    throw new Error(
      `PostgreSQL is not reachable on ${u.hostname}:${u.port || 5432} (${(e as Error).message}): start it with ` +
        '`pg_ctlcluster 15 main start` (or `docker run -d -p 5432:5432 -e POSTGRES_HOST_AUTH_METHOD=trust postgres:15`), ' +
        'or point CHATGATE_TEST_PG_URL at a server with trust auth and a `test` database',
    )
  }
}

/** Throws a message that says how to start Redis when the test server does not answer PING. */
export async function requireRedis(): Promise<void> {
  const u = new URL(TEST_REDIS_URL)
  const host = u.hostname || '127.0.0.1'
  const port = Number(u.port || 6379)
  const reply = await new Promise<string>((resolve) => {
    const socket = createConnection({ host, port })
    socket.setTimeout(3_000, () => socket.destroy(new Error('no answer within 3 s')))
    socket.on('connect', () => socket.write('PING\r\n'))
    socket.on('data', (d) => {
      resolve(String(d))
      socket.end()
    })
    socket.on('error', (e) => resolve(e.message))
  })
  if (!reply.startsWith('+PONG')) {
    throw new Error(
      `Redis is not reachable on ${host}:${port} (${reply.trim()}): start it with \`redis-server --daemonize yes\` ` +
        '(or `docker run -d -p 6379:6379 redis:7`), or point CHATGATE_TEST_REDIS_URL at a server',
    )
  }
}

/** Keys under a test's Redis prefix right now (never a pattern that could match another prefix's). */
export async function redisKeysUnder(prefix: string): Promise<string[]> {
  if (!/^cgt:[0-9a-f]{8}:$/.test(prefix)) throw new Error(`not a test prefix: ${prefix}`)
  const redis = new Redis(TEST_REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 })
  try {
    const found: string[] = []
    let cursor = '0'
    do {
      const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000)
      found.push(...batch)
      cursor = next
    } while (cursor !== '0')
    return found
  } finally {
    redis.disconnect()
  }
}

/** Deletes every key under a test's Redis prefix (rate-limit counters); the server is never flushed. */
export async function deleteRedisKeys(prefix: string): Promise<void> {
  const keys = await redisKeysUnder(prefix)
  if (keys.length === 0) return
  const redis = new Redis(TEST_REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 })
  try {
    await redis.unlink(...keys)
  } finally {
    redis.disconnect()
  }
}
