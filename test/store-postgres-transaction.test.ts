import type pg from 'pg'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { inTransaction, TRANSACTION_ATTEMPTS } from '../src/store/postgres-pool.js'

/** An error shaped like pg's DatabaseError. */
const pgError = (code: string) => Object.assign(new Error(`pg ${code}`), { code })

/**
 * A pool of fake connections that logs every statement, in order, across connections; `commitFails`
 * makes the next COMMITs throw the given errors, one per COMMIT.
 */
function fakePool(commitFails: Error[] = []) {
  const log: string[] = []
  const released: boolean[] = []
  const pool = {
    async connect() {
      return {
        async query(sql: string) {
          log.push(sql)
          if (sql === 'COMMIT' && commitFails.length > 0) throw commitFails.shift()
          return { rows: [] }
        },
        release(broken?: boolean) {
          released.push(broken === true)
        },
      }
    },
  }
  return { pool: pool as unknown as pg.Pool, log, released }
}

/** Retry options with a recorded fake sleep and a fixed random. */
function fakeRetry(random = 0.5) {
  const pauses: number[] = []
  return { pauses, retry: { sleep: async (ms: number) => void pauses.push(ms), random: () => random } }
}

/** Work that throws the given errors on its first runs, then returns 'done'; counts its runs. */
function failingWork(errors: Error[]) {
  const work = async (client: pg.PoolClient) => {
    work.runs++
    await client.query('UPDATE t')
    const e = errors[work.runs - 1]
    if (e) throw e
    return 'done'
  }
  work.runs = 0
  return work
}

const Retry = suite('postgres transactions › conflict retry')

for (const [code, name] of [
  ['40001', 'a serialization failure'],
  ['40P01', 'a deadlock'],
] as const) {
  Retry(`should run a transaction aborted by ${name} (${code}) again, from BEGIN, and return its result`, async () => {
    const { pool, log, released } = fakePool()
    const { pauses, retry } = fakeRetry()
    const work = failingWork([pgError(code)])
    assert.is(await inTransaction(pool, work, retry), 'done')
    assert.is(work.runs, 2)
    assert.equal(log, ['BEGIN', 'UPDATE t', 'ROLLBACK', 'BEGIN', 'UPDATE t', 'COMMIT'])
    assert.equal(released, [false, false], 'each attempt gave its connection back')
    assert.is(pauses.length, 1)
  })
}

Retry('should run it again when COMMIT itself reports the serialization failure', async () => {
  const { pool, log } = fakePool([pgError('40001')])
  const { retry } = fakeRetry()
  const work = failingWork([])
  assert.is(await inTransaction(pool, work, retry), 'done')
  assert.is(work.runs, 2)
  assert.equal(log, ['BEGIN', 'UPDATE t', 'COMMIT', 'ROLLBACK', 'BEGIN', 'UPDATE t', 'COMMIT'])
})

Retry(`should give up after ${TRANSACTION_ATTEMPTS} attempts and throw the last conflict`, async () => {
  const { pool, log } = fakePool()
  const { pauses, retry } = fakeRetry()
  const last = pgError('40P01')
  const work = failingWork([pgError('40001'), pgError('40P01'), last, pgError('40001')])
  const err = await inTransaction(pool, work, retry).catch((e: unknown) => e)
  assert.is(err, last)
  assert.is(work.runs, TRANSACTION_ATTEMPTS)
  assert.is(pauses.length, TRANSACTION_ATTEMPTS - 1)
  assert.not.ok(log.includes('COMMIT'), 'no attempt committed')
})

Retry('should throw any other error at once, without running the work again', async () => {
  for (const e of [pgError('23505'), pgError('57P01'), pgError('40P02'), new Error('connection terminated')]) {
    const { pool } = fakePool()
    const { pauses, retry } = fakeRetry()
    const work = failingWork([e])
    assert.is(await inTransaction(pool, work, retry).catch((x: unknown) => x), e)
    assert.is(work.runs, 1)
    assert.equal(pauses, [])
  }
})

Retry('should pause 5-10 ms after the first abort and 10-20 ms after the second, at random within', async () => {
  for (const [random, expected] of [
    [0, [5, 10]],
    [0.999, [9.995, 19.99]],
  ] as const) {
    const { pool } = fakePool()
    const { pauses, retry } = fakeRetry(random)
    await inTransaction(pool, failingWork([pgError('40001'), pgError('40001')]), retry)
    assert.equal(
      pauses.map((p) => Math.round(p * 1000) / 1000),
      expected,
    )
  }
})

Retry.run()
