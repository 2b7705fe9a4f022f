import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { createId } from '../src/auth/tokens.js'
import { FALLBACK_AUTOCHECKPOINT_PAGES, SqliteCheckpointer, type CheckpointReport } from '../src/store/sqlite-checkpointer.js'
import { openSqliteStore } from '../src/store/sqlite.js'
import { waitFor } from './helpers/wait-for.js'

const dir = mkdtempSync(join(tmpdir(), 'chatgate-ckpt-'))
test.after(() => rmSync(dir, { recursive: true, force: true }))

const user = (i: number) => ({
  id: createId(),
  username: `ck-${i}`,
  email: null,
  passwordHash: '$2b$04$abcdefghijklmnopqrstuuP2k0ZJq0mQ9q6pYw3Yl0m7dIh9pW4y6',
  role: 'user' as const,
  firstName: null,
  lastName: null,
  createdAt: Date.now(),
})

test('sqlite checkpoint › should leave WAL checkpoints to a worker thread and keep only a far fallback on the main connection', async () => {
  const path = join(dir, 'a.db')
  const store = openSqliteStore(path)
  for (let i = 0; i < 300; i++) await store.createUser(user(i))
  // The main connection's auto-checkpoint threshold is the fallback, far above SQLite's 1000 pages.
  const main = (store as unknown as { db: Database.Database }).db
  assert.is(main.pragma('wal_autocheckpoint', { simple: true }), FALLBACK_AUTOCHECKPOINT_PAGES)
  assert.ok(statSync(`${path}-wal`).size > 0, 'the writes are in the WAL')

  // A second checkpointer with a short interval reports what it moved into the database file.
  const reports: CheckpointReport[] = []
  const worker = new SqliteCheckpointer(path, (r) => reports.push(r), 20)
  try {
    await waitFor(() => reports.some((r) => r.type === 'error' || (r.checkpointed ?? 0) > 0), 5_000, 'a checkpoint report')
    assert.equal(
      reports.filter((r) => r.type === 'error'),
      [],
      'the worker checkpoints without errors',
    )
    const done = reports.find((r) => (r.checkpointed ?? 0) > 0)!
    assert.is(done.checkpointed, done.log, 'every WAL frame reached the database file')
  } finally {
    await worker.stop()
    await store.close()
  }
  // The data is all there after the store closed, read through a fresh connection.
  const check = new Database(path, { readonly: true })
  try {
    assert.is(check.prepare("SELECT count(*) FROM users WHERE username LIKE 'ck-%'").pluck().get(), 300)
  } finally {
    check.close()
  }
})

test('sqlite checkpoint › should stop its worker when the store closes, so the process can exit', async () => {
  const store = openSqliteStore(join(dir, 'b.db'))
  await store.createUser(user(1))
  await store.close()
  // A second close is harmless (idempotent stop).
  await store.close()
})

test.run()
