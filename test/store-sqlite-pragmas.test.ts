import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type Database from 'better-sqlite3'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ConfigError, loadConfig } from '../src/config.js'
import { openStore } from '../src/store/open.js'

const dir = mkdtempSync(join(tmpdir(), 'chatgate-pragmas-'))
test.after(() => rmSync(dir, { recursive: true, force: true }))

/** The store's own connection (private): the pragmas are per connection. */
const connectionOf = (store: unknown) => (store as { db: Database.Database }).db

test('sqlite pragmas › the store should open with a 2 MiB page cache and the whole file (up to 2047 MiB) mapped by default', async () => {
  const config = loadConfig({})
  assert.is(config.sqliteCacheMb, 2)
  assert.is(config.sqliteMmapMb, 2047)
  const store = await openStore(join(dir, 'a.db'), { sqliteCacheMb: config.sqliteCacheMb, sqliteMmapMb: config.sqliteMmapMb })
  const db = connectionOf(store)
  assert.is(db.pragma('cache_size', { simple: true }), -2 * 1024)
  // Read back from SQLite: a value above its compiled ceiling would come back capped, not as set.
  assert.is(db.pragma('mmap_size', { simple: true }), 2047 * 1024 * 1024)
  await store.close()
})

test('sqlite pragmas › SQLITE_CACHE_MB and SQLITE_MMAP_MB should set them, 0 turning the map off', async () => {
  const config = loadConfig({ SQLITE_CACHE_MB: '2', SQLITE_MMAP_MB: '0' })
  const store = await openStore(join(dir, 'b.db'), { sqliteCacheMb: config.sqliteCacheMb, sqliteMmapMb: config.sqliteMmapMb })
  const db = connectionOf(store)
  assert.is(db.pragma('cache_size', { simple: true }), -2 * 1024)
  assert.is(db.pragma('mmap_size', { simple: true }), 0)
  await store.close()
})

test('sqlite pragmas › a cache below 2 MiB, a negative map or one above the ceiling of SQLite should be refused at start', () => {
  for (const env of [{ SQLITE_CACHE_MB: '1' }, { SQLITE_MMAP_MB: '-1' }, { SQLITE_MMAP_MB: '2048' }, { SQLITE_CACHE_MB: 'lots' }]) {
    assert.throws(
      () => loadConfig(env),
      (e: unknown) => e instanceof ConfigError && /SQLITE_(CACHE|MMAP)_MB/.test(e.message),
    )
  }
})

test.run()
