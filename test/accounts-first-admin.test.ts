import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createApp } from '../src/app.js'
import { ensureAdmin } from '../src/bootstrap-admin.js'
import { loadConfig } from '../src/config.js'
import { createLogger } from '../src/log.js'
import { openStore } from '../src/store/open.js'

// The first admin (src/bootstrap-admin.ts) on a fresh store; three nodes racing to create it: accounts-first-admin-race.
const tempDirs: string[] = []
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'chatgate-admin-'))
  tempDirs.push(d)
  return d
}

const Admin = suite('accounts › first admin')

/** An app over a fresh store (not listening), with its log lines captured. */
async function freshApp(dir = tempDir()) {
  const config = loadConfig({ DATABASE_URL: join(dir, 'chatgate.db'), BCRYPT_COST: '4', PORT: '0', LOG_LEVEL: 'debug' })
  const logs: string[] = []
  const log = createLogger(
    'debug',
    new Writable({
      write: (c, _e, cb) => {
        logs.push(String(c))
        cb()
      },
    }),
  )
  const store = await openStore(config.databaseUrl)
  const app = createApp({ config, store, log })
  return { app, store, log, logs }
}

const device = { deviceName: 'test', userAgent: '', ip: '127.0.0.1' }

Admin('should create `admin` with a random password printed once, and never log it', async () => {
  const { app, store, log, logs } = await freshApp()
  try {
    const printed: string[] = []
    const password = await ensureAdmin({ store, accounts: app.accounts, log }, undefined, (line) => printed.push(line))
    assert.type(password, 'string')
    assert.ok(password!.length >= 20, 'a random password of at least 20 characters')
    assert.is(printed.length, 1)
    assert.ok(printed[0]!.includes(password!))
    assert.is((await store.findUserByUsername('admin'))?.role, 'admin')
    const ok = await app.sessions.login({ username: 'admin' }, password!, device, 'backoffice')
    assert.ok(ok.ok)
    assert.not.ok(logs.join('\n').includes(password!), 'the password must not reach the structured log')
    // A second start over the same store: nothing new, nothing printed.
    const linesBefore = logs.length
    assert.is(await ensureAdmin({ store, accounts: app.accounts, log }, undefined, (line) => printed.push(line)), null)
    assert.is(printed.length, 1)
    assert.equal(logs.slice(linesBefore), [], 'an existing admin is seen quietly, without trying to create one')
  } finally {
    await app.shutdown()
  }
})

Admin('should use CHATGATE_ADMIN_PASSWORD when set, printing nothing', async () => {
  const { app, store, log } = await freshApp()
  try {
    const printed: string[] = []
    assert.is(await ensureAdmin({ store, accounts: app.accounts, log }, 'configured-secret', (line) => printed.push(line)), null)
    assert.equal(printed, [])
    assert.ok((await app.sessions.login({ username: 'admin' }, 'configured-secret', device)).ok)
  } finally {
    await app.shutdown()
  }
})

Admin('should not hijack a user who already holds the name `admin`', async () => {
  const { app, store, log, logs } = await freshApp()
  try {
    await app.accounts.createUser({ username: 'admin', password: 'users-own-password' })
    const printed: string[] = []
    assert.is(await ensureAdmin({ store, accounts: app.accounts, log }, undefined, (line) => printed.push(line)), null)
    assert.equal(printed, [])
    assert.is((await store.findUserByUsername('admin'))?.role, 'user')
    assert.is(await store.hasAdmin(), false)
    assert.ok((await app.sessions.login({ username: 'admin' }, 'users-own-password', device)).ok)
    assert.ok(
      logs.some((l) => JSON.parse(l).level === 40),
      'a warning tells the operator',
    )
  } finally {
    await app.shutdown()
  }
})

Admin.run()

process.on('exit', () => {
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true })
})
