import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { DependencyHealth } from '../src/health/dependency-health.js'
import { guardStore } from '../src/store/guarded.js'
import { openSqliteStore } from '../src/store/sqlite.js'
import { StoreUnavailableError, type Store } from '../src/store/types.js'
import { captureLogs } from './helpers/logs.js'
import { login, registerUser, request } from './helpers/http.js'
import { holdWriteLock } from './helpers/lock-holder.js'
import { startServer, type TestServer } from './helpers/server.js'
import { sqliteOnly } from './helpers/store-kind.js'
import { connectOk } from './helpers/ws.js'
import { waitFor } from './helpers/wait-for.js'

// ─── the quiet log of one dependency ─────────────────────────────────────────

const quiet = suite('store faults › a dependency that goes down logs three kinds of line, not one per failure')

quiet('should log one error when it goes, one warn per period with the count, one info when it is back', () => {
  const clock = { now: 1_000 }
  const { log, lines } = captureLogs()
  const health = new DependencyHealth({ name: 'store', log, now: () => clock.now, warnEveryMs: 60_000 })
  health.reportSuccess()
  assert.is(lines.length, 0, 'nothing while it is up')
  // Four failures a second for three minutes.
  for (let i = 0; i < 721; i++) {
    clock.now += 250
    health.reportFailure(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }))
  }
  assert.not.ok(health.isUp)
  clock.now += 250
  health.reportSuccess()
  assert.ok(health.isUp)
  assert.equal(
    lines.map((l) => [l.level, l.event]),
    [
      [50, 'dependency_down'],
      [40, 'dependency_still_down'],
      [40, 'dependency_still_down'],
      [40, 'dependency_still_down'],
      [30, 'dependency_up'],
    ],
  )
  assert.equal(
    lines.filter((l) => l.event === 'dependency_still_down').map((l) => l.failures),
    [241, 481, 721],
  )
  assert.ok(
    lines.slice(1).every((l) => l.err === undefined),
    'a stack at most once, when it went down',
  )
  assert.is(lines[1]!.error, 'ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:5432')
  assert.is(lines[4]!.failures, 721)
  assert.is(lines[4]!.down_ms, 722 * 250)
  assert.equal(health.outages(), [{ from: 1_000, to: 1_000 + 722 * 250 }])
})

// ─── the guard ────────────────────────────────────────────────────────────────

const guard = suite('store faults › the store guard')

guard('should turn an unusable SQLite file into StoreUnavailableError and leave other errors alone', async () => {
  const real = openSqliteStore(':memory:')
  const health = new DependencyHealth({ name: 'store', log: captureLogs().log })
  let fail: Error | null = null
  const flaky = new Proxy(real, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target)
      if (typeof value !== 'function' || prop === 'close') return value
      return (...args: unknown[]) => (fail ? Promise.reject(fail) : value.apply(target, args))
    },
  }) as Store
  const store = guardStore(flaky, { health, timeoutMs: 1_000 })
  for (const code of ['SQLITE_IOERR', 'SQLITE_IOERR_WRITE', 'SQLITE_CANTOPEN', 'SQLITE_FULL']) {
    fail = Object.assign(new Error(code), { code })
    const err = await store.heartbeatNode('n', 1, 1).catch((e) => e)
    assert.instance(err, StoreUnavailableError, code)
    assert.is((err as Error).cause, fail)
  }
  assert.not.ok(health.isUp)
  fail = null
  await store.findUserById('nobody')
  assert.not.ok(health.isUp, 'a read does not prove that writes work again')
  fail = Object.assign(new Error('constraint'), { code: 'SQLITE_CONSTRAINT_UNIQUE' })
  const other = await store.heartbeatNode('n', 1, 1).catch((e) => e)
  assert.is(other, fail, 'an answer of the store passes as it is')
  assert.ok(health.isUp, 'and a write the store answered, even with a refusal, proves it usable')
  await real.close()
})

// ─── a real server on a file another process locks ───────────────────────────

/** The lock wait of the server: short, so that a write gives up well within a second. */
const LOCK_WAIT_MS = 300
let srv: TestServer
const locked = suite('store faults › another process holds the SQLite write lock past SQLITE_LOCK_WAIT_MS')
locked.before(async () => {
  srv = await startServer({ SQLITE_LOCK_WAIT_MS: String(LOCK_WAIT_MS), NODE_HEARTBEAT_MS: '200', DEPENDENCY_WARN_EVERY_MS: '500' })
})
locked.after(() => srv.close())

const readyz = async () => {
  const res = await fetch(`${srv.url}/readyz`)
  return { status: res.status, body: await res.json() }
}

sqliteOnly(locked, 'locks the SQLite file from a second process')(
  'should answer 503 UNAVAILABLE within a second, say so on /readyz, keep the socket, log quietly, and heal',
  async () => {
    const user = await registerUser(srv.url, 'locked-out')
    const { client } = await connectOk(srv.url, { token: user.token, username: 'locked-out' })
    client.ignore('devices')
    assert.equal(await readyz(), { status: 200, body: { ok: true, store: 'up', bus: 'off' } })
    const logsBefore = srv.logs.length

    const hold = holdWriteLock(srv.dbPath, 2_500)
    await hold.locked
    const started = performance.now()
    const res = await request(srv.url, 'POST', '/session', { body: { username: 'locked-out', password: 'password-123' } })
    const ms = performance.now() - started
    assert.is(res.status, 503)
    assert.is(res.body.error_info.error_code, 'UNAVAILABLE')
    assert.is(res.headers.get('retry-after'), '1')
    assert.ok(ms < 1_000, `answered in ${Math.round(ms)} ms`)
    assert.equal(await readyz(), { status: 503, body: { ok: false, store: 'down', bus: 'off' } })
    assert.is((await fetch(`${srv.url}/healthz`)).status, 200, '/healthz: the process serves')
    await client.roundTrip()

    await hold.released
    await waitFor(async () => (await readyz()).status === 200, 5_000, '/readyz to say the store is back')
    assert.is((await login(srv.url, 'locked-out', 'password-123')).token.length > 0, true)
    await client.roundTrip()
    assert.is(client.closeInfo, null, 'the socket never closed')

    const lines = srv.logs.slice(logsBefore).map((l) => JSON.parse(l) as Record<string, any>)
    const events = lines.filter((l) => l.dependency === 'store').map((l) => l.event)
    assert.is(events.filter((e) => e === 'dependency_down').length, 1, `one down: ${events}`)
    assert.is(events.filter((e) => e === 'dependency_up').length, 1, `one up: ${events}`)
    assert.ok(events.includes('dependency_still_down'), 'warned while it lasted (period 500 ms)')
    assert.equal(
      lines.filter((l) => l.level >= 50).map((l) => l.event ?? l.msg),
      ['dependency_down'],
      'no error per failed heartbeat or row write',
    )
  },
)

quiet.run()
guard.run()
locked.run()
