import { spawnSync } from 'node:child_process'
import { chmodSync, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { registerUser } from './helpers/http.js'
import { startServer } from './helpers/server.js'
import { sqliteOnly } from './helpers/store-kind.js'

/** The database and its -wal and -shm: together they hold every password hash and session. */
const databaseFiles = (dbPath: string) => [dbPath, `${dbPath}-wal`, `${dbPath}-shm`]

function assertOwnerOnly(dbPath: string): void {
  for (const file of databaseFiles(dbPath)) {
    assert.ok(existsSync(file), `${file} should exist while the server runs`)
    const mode = statSync(file).mode & 0o777
    assert.is(mode.toString(8), '600', `${file} is mode ${mode.toString(8)}`)
  }
}

/**
 * Leaves the database as a crashed writer does: a row in the WAL and both -wal and -shm on disk
 * (a killed process never checkpoints or removes them).
 */
function crashAfterWriting(dbPath: string, sql: string): void {
  const script = `const D = require('better-sqlite3'); const db = new D(process.argv[1]);
    db.pragma('wal_autocheckpoint = 0'); db.prepare(process.argv[2]).run(); process.kill(process.pid, 'SIGKILL')`
  const r = spawnSync(process.execPath, ['-e', script, dbPath, sql], { cwd: process.cwd(), encoding: 'utf8' })
  assert.is(r.signal, 'SIGKILL', r.stderr)
}

const Modes = suite('sqlite files › mode')

sqliteOnly(Modes, 'about the SQLite files on disk')('should create the database, -wal and -shm readable by the owner only', async () => {
  const srv = await startServer()
  try {
    await registerUser(srv.url, 'mode-fresh') // a write, so the WAL holds frames
    assertOwnerOnly(srv.dbPath)
  } finally {
    await srv.close()
  }
})

sqliteOnly(Modes, 'about the SQLite files on disk')('should tighten an existing 0644 database, -wal and -shm to 0600 and keep what the WAL held', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'chatgate-mode-'))
  try {
    const first = await startServer({}, { dir })
    await registerUser(first.url, 'mode-existing')
    await first.close()
    crashAfterWriting(first.dbPath, "UPDATE users SET first_name = 'from-the-wal' WHERE username = 'mode-existing'")
    for (const file of databaseFiles(first.dbPath)) {
      assert.ok(existsSync(file), `${file} should be left by the crashed writer`)
      chmodSync(file, 0o644)
    }

    const again = await startServer({}, { dir })
    try {
      assertOwnerOnly(again.dbPath)
      assert.is((await again.app.store.findUserByUsername('mode-existing'))?.firstName, 'from-the-wal')
    } finally {
      await again.close()
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

Modes.run()
