import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { ConnectionRowWriter } from '../src/gateway/row-writer.js'
import { openSqliteStore, type SqliteStore } from '../src/store/sqlite.js'
import type { ConnectionRow } from '../src/store/types.js'
import { waitFor } from './helpers/ws.js'

/** A real SQLite store whose applyConnectionChanges can be made to fail, counting calls. */
type Ctx = { dir: string; store: SqliteStore; calls: number; failNext: number; userId: string; sessionId: string }
const rows = suite<Ctx>('connection rows')

rows.before.each(async (ctx) => {
  ctx.dir = mkdtempSync(join(tmpdir(), 'chatgate-rows-'))
  ctx.store = openSqliteStore(join(ctx.dir, 'db.sqlite'))
  ctx.calls = 0
  ctx.failNext = 0
  ctx.userId = 'u-1'
  ctx.sessionId = 's-1'
  await ctx.store.createUser({ id: ctx.userId, username: 'rowan', email: null, passwordHash: 'x', role: 'user', firstName: null, lastName: null, createdAt: 1 })
  await ctx.store.createSession({
    id: ctx.sessionId,
    userId: ctx.userId,
    kind: 'user',
    deviceName: 'd',
    userAgent: '',
    ip: '',
    createdAt: 1,
    lastSeenAt: 1,
    expiresAt: Date.now() + 60_000,
    tokenHash: Buffer.alloc(32),
  })
  await ctx.store.heartbeatNode('n1', 1, Date.now())
  const apply = ctx.store.applyConnectionChanges.bind(ctx.store)
  ctx.store.applyConnectionChanges = async (opened, closed) => {
    ctx.calls++
    if (ctx.failNext > 0) {
      ctx.failNext--
      throw new Error('database is locked')
    }
    return apply(opened, closed)
  }
})
rows.after.each(async (ctx) => {
  await ctx.store.close()
  rmSync(ctx.dir, { recursive: true, force: true })
})

const silent = pino({ level: 'silent' })
const row = (ctx: Ctx, id: string): ConnectionRow => ({
  id,
  sessionId: ctx.sessionId,
  userId: ctx.userId,
  nodeId: 'n1',
  ip: '127.0.0.1',
  userAgent: '',
  connectedAt: Date.now(),
})
const stored = async (ctx: Ctx) => (await ctx.store.listConnections({ limit: 100, aliveSince: 0 })).rows.map((r) => r.id).sort()

rows('gateway › should write one batch per turn and never touch the store for a socket opened and closed in it', async (ctx) => {
  const w = new ConnectionRowWriter({ store: ctx.store, log: silent })
  w.recordOpened(row(ctx, 'a'))
  w.recordOpened(row(ctx, 'b'))
  w.recordOpened(row(ctx, 'flash'))
  w.recordClosed('flash')
  await w.flush()
  assert.is(ctx.calls, 1)
  assert.equal(await stored(ctx), ['a', 'b'])
  w.recordOpened(row(ctx, 'flash2'))
  w.recordClosed('flash2')
  await w.flush()
  assert.is(ctx.calls, 1, 'nothing to write')
  w.recordClosed('a')
  await w.flush()
  assert.equal(await stored(ctx), ['b'])
})

rows('gateway › should delete a row whose insert was in flight when the socket closed', async (ctx) => {
  const w = new ConnectionRowWriter({ store: ctx.store, log: silent })
  w.recordOpened(row(ctx, 'a'))
  const first = w.flush() // the insert is now out
  w.recordClosed('a')
  await first
  await w.flush()
  assert.equal(await stored(ctx), [])
})

rows('gateway › should keep a failed batch queued, in order, and write it on the next try', async (ctx) => {
  const w = new ConnectionRowWriter({ store: ctx.store, log: silent })
  w.recordOpened(row(ctx, 'kept'))
  w.recordOpened(row(ctx, 'gone'))
  ctx.failNext = 1
  const failed = await w.flush().then(
    () => null,
    (e: Error) => e,
  )
  assert.ok(failed, 'flush reports the failure')
  assert.is(w.pending, 2, 'the batch is queued again')
  w.recordClosed('gone') // never reached the store: nothing to delete
  w.recordOpened(row(ctx, 'later'))
  await w.flush()
  assert.equal(await stored(ctx), ['kept', 'later'])
  assert.is(w.pending, 0)
})

rows('gateway › should still delete a rewritten row that closes after a failed rewrite', async (ctx) => {
  const w = new ConnectionRowWriter({ store: ctx.store, log: silent })
  w.recordOpened(row(ctx, 'a'))
  await w.flush()
  w.recordRewrite(row(ctx, 'a'))
  ctx.failNext = 1
  await w.flush().catch(() => undefined)
  w.recordClosed('a')
  await w.flush()
  assert.equal(await stored(ctx), [])
})

rows('gateway › should retry background writes after a failure without losing rows', async (ctx) => {
  const w = new ConnectionRowWriter({ store: ctx.store, log: silent })
  ctx.failNext = 1
  w.recordOpened(row(ctx, 'a'))
  await waitFor(async () => (await stored(ctx)).length > 0, 5_000, 'the retried write')
  assert.equal(await stored(ctx), ['a'])
  assert.ok(ctx.calls >= 2)
  await w.stop()
})

rows.run()
