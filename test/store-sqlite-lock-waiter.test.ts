import Database from 'better-sqlite3'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { isBusyError, SqliteLockWaiter } from '../src/store/sqlite-lock-waiter.js'
import { StoreUnavailableError } from '../src/store/types.js'
import { waitFor } from './helpers/wait-for.js'

/** An error shaped like better-sqlite3's SqliteError. */
const sqliteError = (code: string) => Object.assign(new Error(code), { code })

/** A waiter on a fake clock: each pause advances the clock by its length and is recorded. */
function fakeWaiter(maxWaitMs = 1_000) {
  let clock = 0
  const pauses: number[] = []
  const waiter = new SqliteLockWaiter({
    maxWaitMs,
    now: () => clock,
    sleep: async (ms) => {
      pauses.push(ms)
      clock += ms
    },
  })
  return { waiter, pauses }
}

/** A call that meets a locked file `busyTimes` times, then goes through; counts its attempts. */
function busyThenOk<T>(busyTimes: number, value: T, onApply: () => void = () => {}) {
  const call = () => {
    call.attempts++
    if (call.attempts <= busyTimes) throw sqliteError('SQLITE_BUSY')
    onApply()
    return value
  }
  call.attempts = 0
  return call
}

const Retry = suite('sqlite lock waiter › retry')

Retry('should try a busy call again after pauses of 2 ms doubling to 50 ms, until it goes through', async () => {
  const { waiter, pauses } = fakeWaiter()
  const call = busyThenOk(8, 'done')
  assert.is(await waiter.write(call), 'done')
  assert.is(call.attempts, 9)
  // The first attempt runs at once; the second at once too (the queued one), then the pauses grow.
  assert.equal(pauses, [2, 4, 8, 16, 32, 50, 50])
})

Retry('should give up with StoreUnavailableError once the bound has passed, never applying the write', async () => {
  const { waiter, pauses } = fakeWaiter(300)
  let applied = 0
  const call = busyThenOk(Infinity, 'never', () => applied++)
  const err = await waiter.write(call).then(
    () => null,
    (e: unknown) => e,
  )
  assert.ok(err instanceof StoreUnavailableError, String(err))
  assert.is(((err as Error).cause as { code: string }).code, 'SQLITE_BUSY')
  assert.is(applied, 0)
  assert.is(
    pauses.reduce((a, b) => a + b, 0),
    300,
    'it waited the bound in all, no more',
  )
})

Retry('should retry reads the same way', async () => {
  const { waiter } = fakeWaiter()
  const call = busyThenOk(3, 42)
  assert.is(await waiter.read(call), 42)
  assert.is(call.attempts, 4)
})

Retry('should pass any other error through at once, untried again', async () => {
  const { waiter, pauses } = fakeWaiter()
  for (const code of ['SQLITE_CONSTRAINT_UNIQUE', 'SQLITE_LOCKED', 'SQLITE_IOERR']) {
    let attempts = 0
    const err = await waiter
      .write(() => {
        attempts++
        throw sqliteError(code)
      })
      .catch((e: { code: string }) => e)
    assert.is(err.code, code)
    assert.is(attempts, 1)
  }
  assert.equal(pauses, [])
})

Retry("should run a write that meets no lock on the caller's turn, once", async () => {
  const { waiter } = fakeWaiter()
  let ran = 0
  const result = waiter.write(() => ++ran)
  assert.is(ran, 1, 'ran before the first await')
  assert.is(await result, 1)
  assert.is(ran, 1)
})

Retry('should tell the busy codes from the others', () => {
  for (const code of ['SQLITE_BUSY', 'SQLITE_BUSY_SNAPSHOT', 'SQLITE_BUSY_RECOVERY', 'SQLITE_BUSY_TIMEOUT']) assert.ok(isBusyError(sqliteError(code)), code)
  for (const e of [sqliteError('SQLITE_LOCKED'), sqliteError('SQLITE_BUSYX'), new Error('SQLITE_BUSY'), null, undefined, 'SQLITE_BUSY']) {
    assert.not.ok(isBusyError(e), String(e))
  }
})

const Order = suite('sqlite lock waiter › order')

Order('should apply writes in call order: a write issued while another waits runs after it', async () => {
  const { waiter } = fakeWaiter()
  const applied: string[] = []
  const first = waiter.write(busyThenOk(3, 'a', () => applied.push('a')))
  const second = waiter.write(busyThenOk(0, 'b', () => applied.push('b')))
  const third = waiter.write(busyThenOk(1, 'c', () => applied.push('c')))
  assert.equal(await Promise.all([first, second, third]), ['a', 'b', 'c'])
  assert.equal(applied, ['a', 'b', 'c'])
})

Order('should let a read through while writes wait for the lock', async () => {
  const { waiter } = fakeWaiter()
  const applied: string[] = []
  const write = waiter.write(busyThenOk(3, 'w', () => applied.push('write')))
  const read = waiter.read(() => applied.push('read'))
  await Promise.all([write, read])
  assert.equal(applied, ['read', 'write'])
})

Order('should keep writes going after one gave up, each within its own bound', async () => {
  const { waiter } = fakeWaiter(100)
  const gaveUp = waiter.write(busyThenOk(Infinity, 'never')).catch((e: unknown) => e)
  const next = waiter.write(busyThenOk(0, 'next'))
  assert.ok((await gaveUp) instanceof StoreUnavailableError)
  assert.is(await next, 'next')
  // Nothing waits any more: the next write runs on its caller's turn again.
  let ran = false
  void waiter.write(() => (ran = true))
  assert.ok(ran)
})

Order('drain should resolve once every queued write has settled', async () => {
  const { waiter } = fakeWaiter()
  let done = false
  void waiter.write(busyThenOk(4, 'x', () => (done = true)))
  await waiter.drain()
  assert.ok(done)
})

const Real = suite('sqlite lock waiter › a real locked file')

Real('should wait off the event loop while another connection holds the write lock, then commit the transaction once', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'chatgate-waiter-'))
  const path = join(dir, 'w.db')
  const ours = new Database(path)
  const theirs = new Database(path)
  try {
    ours.pragma('journal_mode = WAL')
    ours.pragma('busy_timeout = 0')
    ours.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)')
    const insert = ours.prepare('INSERT INTO t (v) VALUES (?)')
    const waiter = new SqliteLockWaiter({ maxWaitMs: 2_000 })

    theirs.exec('BEGIN IMMEDIATE')
    let attempts = 0
    const write = waiter.write(() => {
      attempts++
      return ours
        .transaction(() => {
          insert.run('one')
          insert.run('two')
        })
        .immediate()
    })
    // The loop is free while the write waits: this test keeps running, and sees it try again.
    await waitFor(() => attempts >= 3, 2_000, 'the write to be tried again')
    assert.is(ours.prepare('SELECT count(*) FROM t').pluck().get(), 0)
    theirs.exec('COMMIT')
    await write
    assert.equal(ours.prepare('SELECT v FROM t ORDER BY id').pluck().all(), ['one', 'two'])
    assert.not.ok(ours.inTransaction)
  } finally {
    theirs.close()
    ours.close()
    rmSync(dir, { recursive: true, force: true })
  }
})

Retry.run()
Order.run()
Real.run()
