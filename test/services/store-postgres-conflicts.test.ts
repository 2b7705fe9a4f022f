import type pg from 'pg'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createPostgresPool, inTransaction, parsePostgresUrl } from '../../src/store/postgres-pool.js'
import { dropSchema, newSchemaName, pgAdmin, pgUrlFor, requirePostgres } from '../helpers/services.js'

await requirePostgres()

/** A promise and its resolve, to hold one transaction at a chosen point until another got somewhere. */
function gate() {
  let open!: () => void
  const opened = new Promise<void>((resolve) => (open = resolve))
  return { open, opened }
}

let schema: string
let pool: pg.Pool
const counter = async (id: string) => (await pool.query<{ n: number }>('SELECT n FROM counters WHERE id = $1', [id])).rows[0]!.n

const Conflicts = suite('postgres transactions › real conflicts')
Conflicts.before.each(async () => {
  schema = newSchemaName()
  await pgAdmin(`CREATE SCHEMA ${schema}`)
  await pgAdmin(`CREATE TABLE ${schema}.counters (id text PRIMARY KEY, n integer NOT NULL)`)
  await pgAdmin(`INSERT INTO ${schema}.counters VALUES ('a', 0), ('b', 0)`)
  pool = createPostgresPool(parsePostgresUrl(pgUrlFor(schema)))
})
Conflicts.after.each(async () => {
  await pool.end()
  await dropSchema(schema)
})

Conflicts('should run again the transaction PostgreSQL chose as a deadlock victim, and apply each write once', async () => {
  const aLocked = gate()
  const bLocked = gate()
  const runs = { ab: 0, ba: 0 }
  // Two transactions taking the same two rows in opposite orders, each waiting (first run only)
  // until the other holds its first row: a deadlock, every time.
  const crossing = (first: 'a' | 'b', second: 'a' | 'b', mine: ReturnType<typeof gate>, theirs: ReturnType<typeof gate>, key: 'ab' | 'ba') =>
    inTransaction(pool, async (db) => {
      runs[key]++
      await db.query("SET LOCAL deadlock_timeout = '50ms'")
      await db.query('UPDATE counters SET n = n + 1 WHERE id = $1', [first])
      if (runs[key] === 1) {
        mine.open()
        await theirs.opened
      }
      await db.query('UPDATE counters SET n = n + 1 WHERE id = $1', [second])
      return key
    })
  const results = await Promise.all([crossing('a', 'b', aLocked, bLocked, 'ab'), crossing('b', 'a', bLocked, aLocked, 'ba')])
  assert.equal(results, ['ab', 'ba'], 'both callers got their result, neither an error')
  assert.is(runs.ab + runs.ba, 3, `one of the two ran twice: ${JSON.stringify(runs)}`)
  // The victim's first run was rolled back: each transaction's two increments count once.
  assert.is(await counter('a'), 2)
  assert.is(await counter('b'), 2)
})

Conflicts('should run again a REPEATABLE READ transaction that met a serialization failure, on fresh data', async () => {
  const read = gate()
  const otherCommitted = gate()
  let runs = 0
  const tx = inTransaction(pool, async (db) => {
    runs++
    await db.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ')
    const n = (await db.query<{ n: number }>("SELECT n FROM counters WHERE id = 'a'")).rows[0]!.n
    if (runs === 1) {
      read.open()
      await otherCommitted.opened
    }
    // Updating a row another transaction changed since this snapshot: 40001 on the first run.
    await db.query("UPDATE counters SET n = $1 WHERE id = 'a'", [n + 10])
  })
  await read.opened
  await pool.query("UPDATE counters SET n = n + 1 WHERE id = 'a'")
  otherCommitted.open()
  await tx
  assert.is(runs, 2)
  assert.is(await counter('a'), 11, 'the second run read the other write and built on it')
})

Conflicts.run()
