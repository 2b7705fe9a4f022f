import Database from 'better-sqlite3'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { loadConfig } from '../src/config.js'
import { createLivenessWindow, liveNodesSince, PURGE_AFTER_HEARTBEATS, seenWindowStart } from '../src/cluster/liveness.js'
import { NodePresence } from '../src/cluster/node-presence.js'
import { DependencyHealth } from '../src/health/dependency-health.js'
import { guardStore } from '../src/store/guarded.js'
import { openSqliteStore, type SqliteStore } from '../src/store/sqlite.js'
import type { Store } from '../src/store/types.js'
import { captureLogs } from './helpers/logs.js'

const HEARTBEAT = 5_000
const T = 1_700_000_000_000

type Ctx = { dir: string; store: SqliteStore }
const liveness = suite<Ctx>('liveness › node heartbeats')
liveness.before.each((ctx) => {
  ctx.dir = mkdtempSync(join(tmpdir(), 'chatgate-liveness-'))
  ctx.store = openSqliteStore(join(ctx.dir, 'chatgate.db'))
})
liveness.after.each(async (ctx) => {
  await ctx.store.close()
  rmSync(ctx.dir, { recursive: true, force: true })
})

/**
 * A node's presence on a clock the test moves by hand, using the store through the guard as a node
 * does; `stalls` counts its onStalled calls; while `unusable.now` is set every store call fails as
 * an unusable file does (SQLITE_IOERR).
 */
function presence(store: SqliteStore, nodeId: string, clock: { now: number }, unusable = { now: false }) {
  const counters = { stalls: 0 }
  const log = captureLogs().log
  const health = new DependencyHealth({ name: 'store', log, now: () => clock.now })
  const flaky = new Proxy(store, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target)
      if (typeof value !== 'function') return value
      return (...args: unknown[]) => {
        if (unusable.now) return Promise.reject(Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR' }))
        return value.apply(target, args)
      }
    },
  }) as Store
  const p = new NodePresence({
    store: guardStore(flaky, { health, timeoutMs: 1_000 }),
    log,
    now: () => clock.now,
    nodeId,
    heartbeatMs: HEARTBEAT,
    window: createLivenessWindow(HEARTBEAT, health),
    onStalled: () => counters.stalls++,
  })
  return Object.assign(p, { counters })
}

/** The ids in the nodes table, read with a connection of its own. */
function nodesIn(dir: string): unknown[] {
  const db = new Database(join(dir, 'chatgate.db'), { readonly: true })
  try {
    return db.prepare('SELECT id FROM nodes ORDER BY id').pluck().all()
  } finally {
    db.close()
  }
}

liveness("should fit the defaults: devices hidden 15 s and rows purged at most 25 s after a node's last beat", () => {
  const { nodeHeartbeatMs } = loadConfig({})
  assert.is(nodeHeartbeatMs, HEARTBEAT)
  assert.is(liveNodesSince(nodeHeartbeatMs, T), T - 15_000)
  // A purge runs on every live node's beat: one period after the threshold at the latest.
  assert.ok((PURGE_AFTER_HEARTBEATS + 1) * nodeHeartbeatMs <= 30_000)
  assert.throws(() => loadConfig({ NODE_HEARTBEAT_MS: '50' }), /NODE_HEARTBEAT_MS/)
})

liveness('should purge a node silent for four periods, not one silent for less', async ({ dir, store }) => {
  const clock = { now: T }
  await store.heartbeatNode('dead', T, T)
  const alive = presence(store, 'alive', clock)
  await alive.start()
  const nodes = () => nodesIn(dir)
  clock.now = T + 4 * HEARTBEAT
  await alive.beat()
  assert.equal(nodes(), ['alive', 'dead'], 'exactly four periods: kept')
  clock.now += 1
  await alive.beat()
  assert.equal(nodes(), ['alive'])
  await alive.stop()
})

liveness('should rewrite its rows after a beat three periods late, not after a normal one', async ({ store }) => {
  const clock = { now: T }
  const node = presence(store, 'sleepy', clock)
  await node.start()
  clock.now += HEARTBEAT
  await node.beat()
  clock.now += 3 * HEARTBEAT - 1
  await node.beat()
  assert.is(node.counters.stalls, 0)
  clock.now += 3 * HEARTBEAT
  await node.beat()
  assert.is(node.counters.stalls, 1)
  await node.stop()
})

liveness('should not purge the others after a spell in which its own heartbeat failed', async ({ dir, store }) => {
  const clock = { now: T }
  const unusable = { now: false }
  await store.heartbeatNode('other', T, T)
  const node = presence(store, 'blind', clock, unusable)
  await node.start()
  // 30 s in which this node cannot use the store: its beats fail, quietly.
  unusable.now = true
  for (let i = 1; i <= 6; i++) {
    clock.now = T + i * HEARTBEAT
    await node.beat()
  }
  unusable.now = false
  clock.now = T + 31_000
  await node.beat()
  assert.is(node.counters.stalls, 1, 'its own rows are rewritten')
  assert.equal(nodesIn(dir), ['blind', 'other'], 'the first beat after the spell purges nobody')
  // The other node's silence counts only from the end of the spell: 4 periods of it, then purged.
  clock.now = T + 31_000 + PURGE_AFTER_HEARTBEATS * HEARTBEAT - 1
  await node.beat()
  assert.equal(nodesIn(dir), ['blind', 'other'], 'silent for less than four periods this node could see')
  clock.now += 2
  await node.beat()
  assert.equal(nodesIn(dir), ['blind'], 'silent for four periods this node saw: purged')
  await node.stop()
})

liveness('should move the window back by the outages inside it, and only those', () => {
  const W = 15_000
  assert.is(seenWindowStart(T, W, []), T - W)
  assert.is(seenWindowStart(T, W, [{ from: T - 100_000, to: T - 90_000 }]), T - W, 'an old outage does not count')
  assert.is(seenWindowStart(T, W, [{ from: T - 40_000, to: T - 10_000 }]), T - 45_000, 'a 30 s outage 10 s ago: 5 s more before it')
  assert.is(seenWindowStart(T, W, [{ from: T - 5_000, to: null }]), T - 20_000, 'an outage still going on')
  assert.is(
    seenWindowStart(T, 20_000, [
      { from: T - 30_000, to: T - 25_000 },
      { from: T - 12_000, to: T - 2_000 },
    ]),
    T - 35_000,
    '2 s + 13 s + 5 s seen around two outages',
  )
})

liveness.run()
