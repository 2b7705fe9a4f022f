import Database from 'better-sqlite3'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { loadConfig } from '../src/config.js'
import { liveNodesSince, PURGE_AFTER_HEARTBEATS } from '../src/cluster/liveness.js'
import { NodePresence } from '../src/cluster/node-presence.js'
import { openSqliteStore, type SqliteStore } from '../src/store/sqlite.js'
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

/** A node's presence on a clock the test moves by hand; `stalls` counts its onStalled calls. */
function presence(store: SqliteStore, nodeId: string, clock: { now: number }) {
  const counters = { stalls: 0 }
  const p = new NodePresence({ store, log: captureLogs().log, now: () => clock.now, nodeId, heartbeatMs: HEARTBEAT, onStalled: () => counters.stalls++ })
  return Object.assign(p, { counters })
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
  const nodes = () => {
    const db = new Database(join(dir, 'chatgate.db'), { readonly: true })
    try {
      return db.prepare('SELECT id FROM nodes ORDER BY id').pluck().all()
    } finally {
      db.close()
    }
  }
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

liveness.run()
