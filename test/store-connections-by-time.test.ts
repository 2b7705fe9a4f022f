import { randomBytes, randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type Database from 'better-sqlite3'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { openSqliteStore } from '../src/store/sqlite.js'
import { migrations } from '../src/store/sqlite-migrations.js'

// The live-connection listing (newest first) reads connections_by_time backwards. The index is
// ascending, so new rows go in at its right edge and its pages fill; descending, each split at
// the left edge left a half-empty page (102 bytes per row at 19k rows; decision 0358).

const dir = mkdtempSync(join(tmpdir(), 'chatgate-conn-index-'))
test.after(() => rmSync(dir, { recursive: true, force: true }))

const ROWS = 5_000
const NOW = 1_800_000_000_000

/**
 * A store with ROWS live connections written in connection order, 100 per batch as the row writer
 * does; `index` replaces connections_by_time before the first row when given.
 */
async function storeWithConnections(path: string, index?: string) {
  const store = openSqliteStore(path)
  const db = (store as unknown as { db: Database.Database }).db
  if (index) db.exec(`DROP INDEX connections_by_time; ${index}`)
  const sessions: { id: string; userId: string }[] = []
  db.transaction(() => {
    for (let i = 0; i < ROWS; i++) {
      const userId = randomUUID()
      const id = randomUUID()
      db.prepare("INSERT INTO users (id, username, password_hash, created_at, updated_at) VALUES (?, ?, 'x', 0, 0)").run(userId, `u${i}`)
      db.prepare(
        "INSERT INTO sessions (id, token_hash, user_id, device_name, user_agent, ip, created_at, last_seen_at, expires_at) VALUES (?, ?, ?, 'd', '', '::1', 0, 0, ?)",
      ).run(id, randomBytes(32), userId, NOW * 2)
      sessions.push({ id, userId })
    }
  })()
  await store.heartbeatNode('node-a', NOW, NOW)
  for (let i = 0; i < ROWS; i += 100) {
    const batch = sessions.slice(i, i + 100).map((s, j) => ({
      id: randomUUID(),
      sessionId: s.id,
      userId: s.userId,
      nodeId: 'node-a',
      ip: '::1',
      userAgent: '',
      connectedAt: NOW + i + j,
    }))
    await store.applyConnectionChanges(batch, [])
  }
  return { store, db }
}

const bytesPerRow = (db: Database.Database, index: string) =>
  (db.prepare('SELECT sum(pgsize) AS size FROM dbstat WHERE name = ?').get(index) as { size: number }).size / ROWS

test('connections_by_time › should be ascending, fill its pages and still list newest first', async () => {
  const { store, db } = await storeWithConnections(join(dir, 'a.db'))
  const columns = db.prepare("SELECT name, desc FROM pragma_index_xinfo('connections_by_time') WHERE key = 1").all()
  assert.equal(columns, [
    { name: 'connected_at', desc: 0 },
    { name: 'id', desc: 0 },
  ])
  const perRow = bytesPerRow(db, 'connections_by_time')
  // An entry is ~50 bytes (a timestamp, a 36-character id, the rowid, headers).
  assert.ok(perRow < 70, `connections_by_time takes ${perRow.toFixed(0)} bytes per row`)
  const first = await store.listConnections({ limit: 3, aliveSince: 0 })
  assert.equal(
    first.rows.map((c) => c.connectedAt),
    [NOW + ROWS - 1, NOW + ROWS - 2, NOW + ROWS - 3],
  )
  await store.close()
})

test('connections_by_time › the descending index of versions 1–3 should take about twice the space', async () => {
  // The same rows under the index as it was before migration 4: what makes the bound above mean something.
  const { store, db } = await storeWithConnections(join(dir, 'b.db'), 'CREATE INDEX connections_by_time ON connections (connected_at DESC, id DESC)')
  const perRow = bytesPerRow(db, 'connections_by_time')
  assert.ok(perRow > 85, `the descending index takes ${perRow.toFixed(0)} bytes per row`)
  await store.close()
  assert.ok(migrations.some((m) => m.sql.includes('CREATE INDEX connections_by_time ON connections (connected_at, id)')))
})

test.run()
