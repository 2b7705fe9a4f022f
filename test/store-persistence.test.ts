import Database from 'better-sqlite3'
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { hashToken } from '../src/auth/tokens.js'
import { openStore } from '../src/store/open.js'
import { SCHEMA_VERSION } from '../src/store/sqlite-migrations.js'
import { nullptrResult } from './helpers/envelopes.js'
import { authHeaders, backofficeLogin, login, registerUser, request } from './helpers/http.js'
import { startServer, type TestServer } from './helpers/server.js'
import { sqliteOnly } from './helpers/store-kind.js'

const root = fileURLToPath(new URL('..', import.meta.url))
const tempDirs: string[] = []
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'chatgate-store-'))
  tempDirs.push(d)
  return d
}
const me = (srv: TestServer, token: string, username: string) => request(srv.url, 'GET', '/session', { headers: authHeaders(token, username) })

/** The bytes of the database file and its WAL (whichever exist). */
function databaseBytes(dbPath: string): Buffer {
  return Buffer.concat([dbPath, `${dbPath}-wal`].filter(existsSync).map((p) => readFileSync(p)))
}

/** PRAGMA user_version of a file, read through a connection of our own. */
function userVersion(dbPath: string): number {
  const db = new Database(dbPath)
  try {
    return db.pragma('user_version', { simple: true }) as number
  } finally {
    db.close()
  }
}

// ─── secrets at rest ────────────────────────────────────────────────────────

const Secrets = suite('store › secrets at rest')
const secretsTest = sqliteOnly(Secrets, 'reads the SQLite file and its WAL as bytes')

secretsTest('should never write a raw token or password into the database file or its WAL, only sha256(token)', async () => {
  const srv = await startServer()
  const tokens: string[] = []
  const sessionIds: string[] = []
  const keep = <S extends { token: string; sessionId: string }>(s: S): S => {
    tokens.push(s.token)
    sessionIds.push(s.sessionId)
    return s
  }
  const a = keep(await registerUser(srv.url, 'at-rest', 'plain-password-1'))
  keep(await login(srv.url, 'at-rest', 'plain-password-1'))
  const d = await request(srv.url, 'POST', '/api/user', { body: { nickName: 'at-rest-d', email: 'rest@example.com', password: 'plain-password-2' } })
  keep({ token: d.body.includes[0].token, sessionId: d.body.includes[0].id })
  const ds = await request(srv.url, 'POST', '/api/session', { body: { email: 'rest@example.com', password: 'plain-password-2' } })
  keep({ token: ds.body.data[0].token, sessionId: ds.body.data[0].id })
  keep(await backofficeLogin(srv.url))
  nullptrResult(
    await request(srv.url, 'PUT', '/user/password', {
      headers: authHeaders(a.token, a.username),
      body: { old_password: 'plain-password-1', new_password: 'plain-password-3' },
    }),
  )
  const passwords = ['plain-password-1', 'plain-password-2', 'plain-password-3', 'admin-password-123']

  const check = (bytes: Buffer, when: string) => {
    for (const [i, token] of tokens.entries()) {
      assert.is(bytes.indexOf(Buffer.from(token, 'utf8')), -1, `${when}: a raw token is in the file`)
      // Positive controls: the file does hold this session, by its hash and its public id.
      assert.ok(bytes.indexOf(hashToken(token)) >= 0, `${when}: sha256 of token ${i} not found, so the search proves nothing`)
      assert.ok(bytes.indexOf(Buffer.from(sessionIds[i]!, 'utf8')) >= 0, `${when}: session id ${i} not found`)
    }
    for (const p of passwords) assert.is(bytes.indexOf(Buffer.from(p, 'utf8')), -1, `${when}: a password is in the file`)
  }
  try {
    check(databaseBytes(srv.dbPath), 'while running')
  } finally {
    await srv.close()
  }
})

secretsTest('should keep only hashes once the WAL is checkpointed into the main file on close', async () => {
  const dir = tempDir()
  const srv = await startServer({}, { dir })
  const u = await registerUser(srv.url, 'checkpointed', 'plain-password-9')
  const other = await login(srv.url, 'checkpointed', 'plain-password-9')
  await srv.close()
  assert.not.ok(existsSync(`${srv.dbPath}-wal`) && readFileSync(`${srv.dbPath}-wal`).length > 0, 'the WAL was checkpointed on close')
  const bytes = readFileSync(srv.dbPath)
  for (const t of [u.token, other.token]) {
    assert.is(bytes.indexOf(Buffer.from(t)), -1)
    assert.ok(bytes.indexOf(hashToken(t)) >= 0)
  }
  assert.is(bytes.indexOf(Buffer.from('plain-password-9')), -1)
})

// ─── persistence across restarts ────────────────────────────────────────────

const Restart = suite('store › restart')

Restart('should keep sessions valid, revoked ones revoked, and not create a second admin after a restart on the same file', async () => {
  const dir = tempDir()
  const first = await startServer({}, { dir })
  const a = await registerUser(first.url, 'survivor')
  const b = await login(first.url, 'survivor', 'password-123', 'tablet')
  const gone = await login(first.url, 'survivor')
  nullptrResult(await request(first.url, 'DELETE', `/session/${gone.sessionId}`, { headers: authHeaders(a.token, a.username) }))
  const adminId = (await first.app.store.findUserByUsername('admin'))?.id
  assert.type(adminId, 'string')
  await first.close()

  // A different CHATGATE_ADMIN_PASSWORD on the second start must not replace the first admin.
  const second = await startServer({ CHATGATE_ADMIN_PASSWORD: 'another-admin-password' }, { dir })
  try {
    const view = nullptrResult(await me(second, a.token, a.username))
    assert.equal(view.devices.map((d: { session_id: string }) => d.session_id).sort(), [a.sessionId, b.sessionId].sort())
    nullptrResult(await me(second, b.token, b.username))
    assert.is((await me(second, gone.token, gone.username)).status, 401)
    await login(second.url, 'survivor')
    await backofficeLogin(second.url, 'admin-password-123')
    const refused = await request(second.url, 'POST', '/api/backoffice/session', { body: { username: 'admin', password: 'another-admin-password' } })
    assert.is(refused.status, 401)
    assert.is((await second.app.store.findUserByUsername('admin'))?.id, adminId, 'the same admin account')
    assert.not.ok(
      second.logs.some((l) => l.includes('admin_created')),
      'no admin was created on the second start',
    )
  } finally {
    await second.close()
  }
})

// ─── schema ─────────────────────────────────────────────────────────────────

const Schema = suite('store › schema')

Schema('should create the folder, the schema (STRICT tables, WAL) and PRAGMA user_version on first open', async () => {
  const path = join(tempDir(), 'nested', 'deeper', 'chatgate.db')
  const store = await openStore(path)
  await store.close()
  assert.ok(existsSync(path))
  assert.is(SCHEMA_VERSION >= 1, true)
  assert.is(userVersion(path), SCHEMA_VERSION)
  const db = new Database(path)
  try {
    assert.is(db.pragma('journal_mode', { simple: true }), 'wal')
    const tables = db.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string; sql: string }[]
    assert.equal(
      tables.map((t) => t.name),
      ['audit_log', 'connections', 'deleted_sessions', 'nodes', 'session_claims', 'sessions', 'users'],
    )
    for (const t of tables) assert.match(t.sql, /\)\s*STRICT$/, `${t.name} must be STRICT`)
  } finally {
    db.close()
  }
})

Schema('should open a file at the current version again without touching its data', async () => {
  const path = join(tempDir(), 'chatgate.db')
  const store = await openStore(path)
  await store.createUser({ id: 'u-1', username: 'kept', email: null, passwordHash: 'x', role: 'user', firstName: null, lastName: null, createdAt: 1 })
  await store.close()
  const again = await openStore(path)
  try {
    assert.is((await again.findUserByUsername('kept'))?.id, 'u-1')
  } finally {
    await again.close()
  }
  assert.is(userVersion(path), SCHEMA_VERSION)
})

Schema('should enforce foreign keys on the store connection', async () => {
  const store = await openStore(join(tempDir(), 'chatgate.db'))
  try {
    let error: unknown
    try {
      await store.createSession({
        id: 's-1',
        userId: 'no-such-user',
        kind: 'user',
        deviceName: 'x',
        userAgent: '',
        ip: '',
        createdAt: 1,
        lastSeenAt: 1,
        expiresAt: 2,
        tokenHash: hashToken('t'),
      })
    } catch (e) {
      error = e
    }
    assert.match(String(error), /FOREIGN KEY/)
  } finally {
    await store.close()
  }
})

Schema('should refuse a file whose schema version is newer than this code, and leave it untouched', async () => {
  const path = join(tempDir(), 'chatgate.db')
  const db = new Database(path)
  db.pragma(`user_version = ${SCHEMA_VERSION + 1}`)
  db.close()
  let error: unknown
  try {
    const store = await openStore(path)
    await store.close()
  } catch (e) {
    error = e
  }
  assert.match(String(error), /newer/)
  assert.is(userVersion(path), SCHEMA_VERSION + 1)
  const check = new Database(path, { readonly: true })
  try {
    assert.is(check.prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table'").pluck().get(), 0)
  } finally {
    check.close()
  }
})

Schema('should make `npm start` exit non-zero on a newer file (child process)', async () => {
  const dir = tempDir()
  const path = join(dir, 'chatgate.db')
  const db = new Database(path)
  db.pragma(`user_version = ${SCHEMA_VERSION + 1}`)
  db.close()
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: root,
    env: { ...process.env, DATABASE_URL: path, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', CHATGATE_ADMIN_PASSWORD: 'admin-password-123' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
  const code = await new Promise<number | null>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error('chatgate did not exit within 30 s on a newer database'))
    }, 30_000)
    child.on('exit', (c) => {
      clearTimeout(timer)
      resolve(c)
    })
  })
  assert.is(code, 1)
  assert.match(stderr, /schema version \d+ is newer/)
})

Secrets.run()
Restart.run()
Schema.run()

process.on('exit', () => {
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true })
})
