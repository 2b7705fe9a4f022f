import { randomUUID } from 'node:crypto'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { migratePostgres, currentPlan } from '../../src/store/postgres-migrate.js'
import { PG_SCHEMA_VERSION } from '../../src/store/postgres-migrations.js'
import { createPostgresPool, parsePostgresUrl } from '../../src/store/postgres-pool.js'
import { openPostgresStore, type PostgresStore } from '../../src/store/postgres.js'
import { newSession, newUser } from '../helpers/store-contract.js'
import { dropSchema, newSchemaName, pgAdmin, pgUrlFor, requirePostgres, withPgClient } from '../helpers/services.js'
import { waitFor } from '../helpers/wait-for.js'

await requirePostgres()

/** Schemas made by the current test; dropped after each test whatever happened. */
let made: string[] = []
let opened: PostgresStore[] = []
const schemaForTest = () => {
  const s = newSchemaName()
  made.push(s)
  return s
}
const open = async (url: string, options: Parameters<typeof openPostgresStore>[1] = {}) => {
  const store = await openPostgresStore(url, options)
  opened.push(store)
  return store
}
const versions = async (schema: string) =>
  (await pgAdmin<{ version: number }>(`SELECT version FROM ${schema}.schema_version ORDER BY version`)).rows.map((r) => r.version)
const hasColumn = async (schema: string, table: string, column: string) =>
  (await pgAdmin('SELECT 1 FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 AND column_name = $3', [schema, table, column]))
    .rowCount === 1

function cleanEach(s: ReturnType<typeof suite>) {
  s.after.each(async () => {
    for (const store of opened) await store.close()
    for (const schema of made) await dropSchema(schema)
    opened = []
    made = []
  })
}

/** This build's version, and every version a fresh schema records (1, then each migration). */
const V = PG_SCHEMA_VERSION
const CURRENT = Array.from({ length: V }, (_, i) => i + 1)

// ── migrations ─────────────────────────────────────────────────────────────────────────────────
const migrations = suite('postgres schema › migrations')
cleanEach(migrations)

migrations('should create the schema once at the current version when three nodes open it at the same moment', async () => {
  const schema = schemaForTest()
  const stores = await Promise.all([1, 2, 3].map(() => open(pgUrlFor(schema))))
  assert.is(stores.length, 3)
  assert.equal(await versions(schema), CURRENT)
  // All three work on the same tables.
  const u = newUser()
  await stores[0]!.createUser(u)
  assert.is((await stores[2]!.findUserById(u.id))?.username, u.username)
})

migrations('should refuse to open a schema whose version is newer than this build', async () => {
  const schema = schemaForTest()
  await (await open(pgUrlFor(schema))).close()
  await pgAdmin(`INSERT INTO ${schema}.schema_version (version, applied_at) VALUES (99, 0)`)
  const err = await openPostgresStore(pgUrlFor(schema)).catch((e) => e)
  assert.instance(err, Error)
  assert.match(err.message, new RegExp(`schema version 99 is newer than this chatgate \\(${PG_SCHEMA_VERSION}\\)`))
})

migrations('should apply pending migrations in order, record each, and never apply one twice', async () => {
  const schema = schemaForTest()
  await (await open(pgUrlFor(schema))).close()
  const plan = {
    ...currentPlan(),
    version: V + 2,
    migrations: [
      ...currentPlan().migrations,
      { to: V + 1, sql: 'ALTER TABLE users ADD COLUMN nickname text' },
      { to: V + 2, sql: 'ALTER TABLE users ADD COLUMN locale text' },
    ],
  }
  const pool = createPostgresPool(parsePostgresUrl(pgUrlFor(schema)))
  try {
    assert.is(await migratePostgres(pool, schema, plan), V + 2)
    assert.equal(await versions(schema), [...CURRENT, V + 1, V + 2])
    assert.ok(await hasColumn(schema, 'users', 'locale'))
    // A second start finds nothing to do (re-running ADD COLUMN would throw).
    assert.is(await migratePostgres(pool, schema, plan), V + 2)
  } finally {
    await pool.end()
  }
})

migrations('should roll a failing migration back whole, leaving the version where it was', async () => {
  const schema = schemaForTest()
  await (await open(pgUrlFor(schema))).close()
  const plan = {
    ...currentPlan(),
    version: V + 2,
    migrations: [
      ...currentPlan().migrations,
      { to: V + 1, sql: 'ALTER TABLE users ADD COLUMN nickname text' },
      { to: V + 2, sql: 'ALTER TABLE no_such_table ADD COLUMN x text' },
    ],
  }
  const pool = createPostgresPool(parsePostgresUrl(pgUrlFor(schema)))
  try {
    const err = await migratePostgres(pool, schema, plan).catch((e) => e)
    assert.instance(err, Error)
    assert.equal(await versions(schema), CURRENT)
    assert.not.ok(await hasColumn(schema, 'users', 'nickname'), 'step 2 must be rolled back with step 3')
  } finally {
    await pool.end()
  }
})

// ── isolation and connections ──────────────────────────────────────────────────────────────────
const isolation = suite('postgres schema › isolation')
cleanEach(isolation)

isolation('should keep two schemas on one server apart', async () => {
  const [a, b] = [schemaForTest(), schemaForTest()]
  const [sa, sb] = await Promise.all([open(pgUrlFor(a)), open(pgUrlFor(b))])
  const u = newUser()
  await sa.createUser(u)
  assert.is(await sb.findUserById(u.id), null)
  await sb.createUser({ ...u, id: randomUUID() }) // the same username is free in the other schema
  assert.is((await sa.findUserByUsername(u.username))?.id, u.id)
})

isolation('should run every pooled connection in its own schema', async () => {
  const schema = schemaForTest()
  const store = await open(pgUrlFor(schema))
  const u = newUser()
  await store.createUser(u)
  // More concurrent queries than one connection can serve: the pool opens several, and each one
  // must already be on the schema (the `public` schema has no users table, so a miss would throw).
  const found = await Promise.all(Array.from({ length: 30 }, () => store.findUserByUsername(u.username)))
  assert.ok(found.every((f) => f?.id === u.id))
  const paths = await pgAdmin<{ n: number }>(
    "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'chatgate' AND datname = current_database()",
  )
  assert.ok(paths.rows[0]!.n >= 2, `expected several pooled connections, saw ${paths.rows[0]!.n}`)
})

isolation('should keep server options given in the URL and add the schema search_path to them', async () => {
  const schema = schemaForTest()
  const url = new URL(pgUrlFor(schema))
  url.searchParams.set('options', '-c statement_timeout=4321')
  const pool = createPostgresPool(parsePostgresUrl(url.toString()))
  try {
    const settings = await Promise.all([pool.query('SHOW statement_timeout'), pool.query('SHOW search_path')])
    assert.is(settings[0].rows[0].statement_timeout, '4321ms')
    assert.is(settings[1].rows[0].search_path, schema)
  } finally {
    await pool.end()
  }
})

isolation('should refuse a schema name that is not a plain lowercase identifier', async () => {
  for (const bad of ['Bad', 'a-b', '1abc', 'x;drop schema public', '', 'a'.repeat(64)]) {
    const err = await openPostgresStore(`${pgUrlFor('placeholder')}`.replace('placeholder', encodeURIComponent(bad))).catch((e) => e)
    assert.instance(err, Error, `schema ${JSON.stringify(bad)} must be refused`)
    assert.match(err.message, /invalid schema name/)
  }
})

isolation('should name the server but never the password when PostgreSQL is unreachable', async () => {
  const err = await openPostgresStore('postgres://chatgate:s3cret-pw@127.0.0.1:1/test?schema=cgt_never').catch((e) => e)
  assert.instance(err, Error)
  assert.match(err.message, /PostgreSQL is not reachable at 127\.0\.0\.1:1\/test/)
  assert.not.match(err.message, /s3cret-pw/)
})

isolation('should survive the server killing an idle pooled connection, and keep serving', async () => {
  const schema = schemaForTest()
  const app = `cgt_kill_${randomUUID().slice(0, 8)}`
  const errors: Error[] = []
  const url = new URL(pgUrlFor(schema))
  url.searchParams.set('application_name', app)
  const store = await open(url.toString(), { onError: (e) => errors.push(e) })
  await store.hasAdmin() // leaves an idle connection in the pool
  const killed = await pgAdmin('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [app])
  assert.ok((killed.rowCount ?? 0) >= 1)
  await waitFor(() => errors.length > 0, 5_000, 'the pool to report the dropped connection')
  assert.is(await store.hasAdmin(), false, 'the next query runs on a new connection')
})

// ── the sessions table ─────────────────────────────────────────────────────────────────────────
const tokens = suite('postgres schema › token hashes')
cleanEach(tokens)

tokens('should look a session up by token hash through the unique index', async () => {
  const schema = schemaForTest()
  const store = await open(pgUrlFor(schema))
  const u = newUser()
  await store.createUser(u)
  const s = newSession(u.id)
  await store.createSession(s)
  const plan = await withPgClient(async (c) => {
    await c.query(`SET search_path TO ${schema}`)
    await c.query('SET enable_seqscan = off')
    const r = await c.query('EXPLAIN SELECT s.*, u.username, u.role, u.disabled FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1', [
      s.tokenHash,
    ])
    return r.rows.map((row) => row['QUERY PLAN'] as string).join('\n')
  })
  assert.match(plan, /sessions_token_hash_unique/)
})

tokens('should refuse a token hash that is not 32 bytes and a second session with the same hash', async () => {
  const schema = schemaForTest()
  const store = await open(pgUrlFor(schema))
  const u = newUser()
  await store.createUser(u)
  const short = await store.createSession(newSession(u.id, { tokenHash: Buffer.alloc(31, 1) })).catch((e) => e)
  assert.instance(short, Error)
  assert.match(short.message, /check constraint/)
  const s = newSession(u.id)
  await store.createSession(s)
  const dup = await store.createSession(newSession(u.id, { tokenHash: s.tokenHash })).catch((e) => e)
  assert.match(dup.message, /sessions_token_hash_unique/)
  const stored = await pgAdmin(`SELECT token_hash FROM ${schema}.sessions`)
  assert.is(stored.rowCount, 1)
  assert.not.ok(stored.rows[0].token_hash.toString('latin1').includes(s.token), 'only the hash is stored')
})

migrations.run()
isolation.run()
tokens.run()
