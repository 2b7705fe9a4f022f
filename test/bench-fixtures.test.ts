import Database from 'better-sqlite3'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { buildFixture, FIXTURE_PASSWORD, type Fixture } from '../bench/fixtures.js'
import { createPasswordHasher, type PasswordHasher } from '../src/auth/passwords.js'
import { SessionService } from '../src/auth/sessions.js'
import { openSqliteStore, type SqliteStore } from '../src/store/sqlite.js'

let dir: string
let fixture: Fixture
let store: SqliteStore
let hasher: PasswordHasher
let sessions: SessionService

test.before(() => {
  dir = mkdtempSync(join(tmpdir(), 'chatgate-bench-fixture-'))
  fixture = buildFixture(join(dir, 'f.db'), { tokenUsers: 5, fillerSessions: 40, loginAccounts: 2, bcryptCost: 4 })
  store = openSqliteStore(fixture.dbPath)
  hasher = createPasswordHasher({ cost: 4, threads: 1, maxQueue: 10 })
  sessions = new SessionService({ store, hasher, now: Date.now, sessionTtlMs: 86_400_000, onRevoked: () => {} })
})
test.after(async () => {
  await store.close()
  await hasher.close()
  rmSync(dir, { recursive: true, force: true })
})

test('bench fixture › should issue tokens that chatgate authenticates for their own username only', async () => {
  assert.is(fixture.credentials.length, 5)
  for (const c of fixture.credentials) {
    const auth = await sessions.authenticate(c.token, c.username)
    assert.ok(auth, `token of ${c.username} must authenticate`)
    assert.is(auth.session.id, c.sessionId)
    assert.is(auth.user.id, c.userId)
  }
  const [a, b] = fixture.credentials
  assert.is(await sessions.authenticate(a!.token, b!.username), null)
})

test('bench fixture › should store only sha256 of the tokens', () => {
  const db = new Database(fixture.dbPath, { readonly: true })
  try {
    const dump = JSON.stringify(db.prepare('SELECT * FROM sessions').all())
    for (const c of fixture.credentials) assert.not.ok(dump.includes(c.token))
    assert.is((db.prepare('SELECT count(*) AS n FROM sessions').get() as { n: number }).n, fixture.sessionRows)
    assert.is(fixture.sessionRows, 45)
  } finally {
    db.close()
  }
})

test('bench fixture › should give each token user exactly one session, spread through the filler rows', () => {
  const db = new Database(fixture.dbPath, { readonly: true })
  try {
    const rowids = fixture.credentials.map((c) => {
      const r = db.prepare('SELECT rowid, (SELECT count(*) FROM sessions WHERE user_id = ?) AS n FROM sessions WHERE id = ?').get(c.userId, c.sessionId) as {
        rowid: number
        n: number
      }
      assert.is(r.n, 1)
      return r.rowid
    })
    // 45 rows, 5 token rows: the first near the start, the last well before the end.
    assert.ok(rowids[0]! <= 2, `first token row at ${rowids[0]}`)
    assert.ok(rowids[4]! < 45 - 5, `last token row at ${rowids[4]}`)
    assert.ok(
      rowids.every((r, i) => i === 0 || r - rowids[i - 1]! >= 5),
      `token rows ${rowids.join(',')} are bunched`,
    )
  } finally {
    db.close()
  }
})

test('bench fixture › should let the login accounts log in with the fixture password and nothing else', async () => {
  const device = { deviceName: 'bench', userAgent: 'test', ip: '127.0.0.1' }
  const ok = await sessions.login({ username: fixture.loginAccounts[0]!.username }, FIXTURE_PASSWORD, device)
  assert.ok(ok.ok)
  const wrong = await sessions.login({ username: fixture.loginAccounts[1]!.username }, 'not-the-password', device)
  assert.equal(wrong, { ok: false, failure: 'WRONG_PASSWORD' })
})

test('bench fixture › should make the first use of a token slide its expiry only when told it was last seen over a minute ago', async () => {
  const lastSeen = (db: Database.Database, id: string) => (db.prepare('SELECT last_seen_at AS t FROM sessions WHERE id = ?').get(id) as { t: number }).t
  for (const [name, ago, touched] of [
    ['fresh', 0, false],
    ['stale', 61_000, true],
  ] as const) {
    const f = buildFixture(join(dir, `${name}.db`), { tokenUsers: 1, fillerSessions: 0, loginAccounts: 0, bcryptCost: 4, lastSeenAgoMs: ago })
    const s = openSqliteStore(f.dbPath)
    const svc = new SessionService({ store: s, hasher, now: Date.now, sessionTtlMs: 86_400_000, onRevoked: () => {} })
    const db = new Database(f.dbPath, { readonly: true })
    try {
      const c = f.credentials[0]!
      const before = lastSeen(db, c.sessionId)
      assert.ok(await svc.authenticate(c.token, c.username))
      assert.is(lastSeen(db, c.sessionId) !== before, touched, name)
    } finally {
      db.close()
      await s.close()
    }
  }
})

test.run()
