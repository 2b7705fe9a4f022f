import { performance } from 'node:perf_hooks'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { assertNullptrError, nullptrResult } from './helpers/envelopes.js'
import { authHeaders, login, registerUser, request, type Res } from './helpers/http.js'
import { holdWriteLock } from './helpers/lock-holder.js'
import { startServer, type TestServer } from './helpers/server.js'
import { sqliteOnly } from './helpers/store-kind.js'
import { connect, connectOk } from './helpers/ws.js'

/** The figure: no socket may wait longer than this for its pong while the file is locked. */
const MAX_ROUND_TRIP_MS = 500
/** Pings are paced (WS_MESSAGES_PER_10S allows 100), often enough to catch any stall of the loop. */
const PING_EVERY_MS = 50

let srv: TestServer

const me = (token: string, username: string) => request(srv.url, 'GET', '/session', { headers: authHeaders(token, username) })
const loginRaw = (username: string, deviceName: string) =>
  request(srv.url, 'POST', '/session', { body: { username, password: 'password-123', device_name: deviceName } })
const revokeOwn = (u: { token: string; username: string }, sessionId: string) =>
  request(srv.url, 'DELETE', `/session/${sessionId}`, { headers: authHeaders(u.token, u.username) })

/** A promise with a flag saying whether it has settled yet. */
function track<T>(promise: Promise<T>): { promise: Promise<T>; settled: () => boolean } {
  let done = false
  void promise.then(
    () => (done = true),
    () => (done = true),
  )
  return { promise, settled: () => done }
}

// ─── a lock held for 2 s, within the bound ──────────────────────────────────

const Held = suite('sqlite lock › another process holds the write lock for 2 s')
Held.before(async () => {
  srv = await startServer()
})
Held.after(() => srv.close())

sqliteOnly(Held, 'holds the SQLite write lock from a second process')(
  'should answer every ping within 500 ms meanwhile, and apply the login and revocation issued during the hold once it ends',
  async () => {
    const owner = await registerUser(srv.url, 'lock-pinger')
    const other = await login(srv.url, 'lock-pinger', 'password-123', 'other device')
    const { client } = await connectOk(srv.url, { token: owner.token, username: owner.username })
    client.ignore('devices')

    const hold = holdWriteLock(srv.dbPath, 2_000)
    await hold.locked
    const lockedAt = performance.now()
    const released = track(hold.released)
    // Two writes issued while the file is locked: a new session row, and a revocation.
    const loginDuring = track(loginRaw('lock-pinger', 'during the hold'))
    const revokeDuring = track(revokeOwn(owner, other.sessionId))

    const trips: { startedAt: number; ms: number; writesAnswered: boolean }[] = []
    while (!released.settled()) {
      const startedAt = performance.now() - lockedAt
      const t0 = performance.now()
      await client.roundTrip(5_000)
      trips.push({ startedAt, ms: performance.now() - t0, writesAnswered: loginDuring.settled() || revokeDuring.settled() })
      await new Promise((r) => setTimeout(r, PING_EVERY_MS))
    }
    await hold.released

    const slowest = Math.max(...trips.map((t) => t.ms))
    assert.ok(slowest < MAX_ROUND_TRIP_MS, `a ping waited ${Math.round(slowest)} ms for its pong while the file was locked`)
    assert.ok(trips.length >= 10, `only ${trips.length} round trips were measured during the hold`)
    // The writes really met the lock: neither was answered during the first 1.5 s of the hold.
    const early = trips.filter((t) => t.startedAt < 1_500)
    assert.ok(early.length >= 5)
    assert.not.ok(
      early.some((t) => t.writesAnswered),
      'a write was answered while the file was still locked',
    )

    // Nothing was lost: both writes went through once the lock was free.
    const session = nullptrResult(await loginDuring.promise)
    nullptrResult(await me(session.session_token, 'lock-pinger'))
    assert.equal(nullptrResult(await revokeDuring.promise), {})
    assertNullptrError(await me(other.token, other.username), 401, 'UNAUTHORIZED')
    assert.is((await srv.app.store.findSessionById(other.sessionId))?.revokedReason, 'revoked_by_user')
    // The pinging socket lived through it all, and was never told to go.
    await client.roundTrip()
    assert.is(client.closeInfo, null)
    assert.not.ok(client.messages.some((m) => m.type === 'revoked'))
    await client.close()
  },
)

// ─── a lock held longer than SQLITE_LOCK_WAIT_MS ────────────────────────────

const TooLong = suite('sqlite lock › a lock held longer than SQLITE_LOCK_WAIT_MS')
TooLong.before(async () => {
  srv = await startServer({ SQLITE_LOCK_WAIT_MS: '300', DUPLICATE_POLICY: 'revoke' })
})
TooLong.after(() => srv.close())

function assertUnavailable(res: Res): void {
  assertNullptrError(res, 503, 'UNAVAILABLE')
  assert.is(res.headers.get('retry-after'), '1')
}

sqliteOnly(TooLong, 'holds the SQLite write lock from a second process')(
  'should answer writes with 503 UNAVAILABLE and Retry-After once the bound passes, and change nothing',
  async () => {
    const owner = await registerUser(srv.url, 'lock-bound')
    const other = await login(srv.url, 'lock-bound', 'password-123', 'other device')
    const before = (await srv.app.sessions.listSessions(owner.userId)).map((s) => s.id).sort()

    const hold = holdWriteLock(srv.dbPath, 1_500)
    await hold.locked
    const released = track(hold.released)
    const [loginRes, revokeRes] = await Promise.all([loginRaw('lock-bound', 'during the hold'), revokeOwn(owner, other.sessionId)])
    assert.not.ok(released.settled(), 'the answers came from the bound, while the file was still locked')
    assertUnavailable(loginRes)
    assertUnavailable(revokeRes)
    await hold.released

    // No session was created and none revoked, then or later.
    assert.equal((await srv.app.sessions.listSessions(owner.userId)).map((s) => s.id).sort(), before)
    nullptrResult(await me(other.token, other.username))
    // The store works again: a login now goes through, and it is the only new session.
    const after = nullptrResult(await loginRaw('lock-bound', 'after the hold'))
    assert.equal((await srv.app.sessions.listSessions(owner.userId)).map((s) => s.id).sort(), [...before, after.session_id].sort())
  },
)

sqliteOnly(TooLong, 'holds the SQLite write lock from a second process')(
  'should refuse an upgrade whose write passes the bound with 503 UNAVAILABLE and Retry-After, and change nothing',
  async () => {
    const u = await registerUser(srv.url, 'lock-upgrade')
    const { client } = await connectOk(srv.url, { token: u.token, username: u.username })
    client.ignore('devices')

    const hold = holdWriteLock(srv.dbPath, 1_500)
    await hold.locked
    const released = track(hold.released)
    // Under DUPLICATE_POLICY=revoke a second socket of the pair revokes the session: a write.
    const second = await connect(srv.url, { token: u.token, username: u.username })
    assert.not.ok(released.settled(), 'the refusal came from the bound, while the file was still locked')
    assert.is(second.status, 503, JSON.stringify(second.body))
    assert.is(second.body.error_info.error_code, 'UNAVAILABLE')
    assert.is(second.headers['retry-after'], '1')
    await hold.released

    // The session was not revoked: the first socket and the pair still work.
    await client.roundTrip()
    assert.is(client.closeInfo, null)
    nullptrResult(await me(u.token, u.username))
    assert.is((await srv.app.store.findSessionById(u.sessionId))?.revokedAt, null)
    await client.close()
  },
)

Held.run()
TooLong.run()
