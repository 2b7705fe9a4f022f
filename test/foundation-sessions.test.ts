import { request as httpRequest, type OutgoingHttpHeaders } from 'node:http'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createId, createToken, hashToken } from '../src/auth/tokens.js'
import { createFakeClock, type FakeClock } from './helpers/clock.js'
import { assertNullptrError, nullptrResult } from './helpers/envelopes.js'
import { authHeaders, login, registerUser, request, type Res } from './helpers/http.js'
import { startLockHolder } from './helpers/lock-holder.js'
import { startServer, type TestServer } from './helpers/server.js'
import { sqliteOnly } from './helpers/store-kind.js'

const DAY = 86_400_000
const TTL = 30 * DAY

let srv: TestServer
let clock: FakeClock
/** Every token issued in this file, to check none of them reaches a log line. */
const issued: string[] = []

async function start(env: Record<string, string> = {}) {
  clock = createFakeClock()
  srv = await startServer(env, { deps: { now: clock.now } })
}

async function signUp(username: string, password = 'password-123', device?: string) {
  const u = await registerUser(srv.url, username, password, device)
  issued.push(u.token)
  return u
}
async function logIn(username: string, password = 'password-123', device?: string) {
  const u = await login(srv.url, username, password, device)
  issued.push(u.token)
  return u
}
const me = (token: string, username: string) => request(srv.url, 'GET', '/session', { headers: authHeaders(token, username) })
const del = (path: string, token: string, username: string) => request(srv.url, 'DELETE', path, { headers: authHeaders(token, username) })
const loginRaw = (body: unknown, headers: Record<string, string> = {}) => request(srv.url, 'POST', '/session', { body, headers })

/** A GET with headers exactly as given (arrays become repeated header lines). */
function rawGet(path: string, headers: OutgoingHttpHeaders): Promise<Res> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(srv.url + path, { headers }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (d) => (text += d))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text), headers: new Headers(res.headers as Record<string, string>) }))
    })
    req.on('error', reject)
    req.end()
  })
}

// ─── login ──────────────────────────────────────────────────────────────────

const Login = suite('sessions › login')
Login.before(() => start())
Login.after(() => srv.close())

Login('should issue a new session carrying device_name, user agent and ip', async () => {
  const reg = await signUp('device-owner')
  const res = await loginRaw({ username: 'device-owner', password: 'password-123', device_name: 'Work laptop' }, { 'user-agent': 'chatgate-test/1.0' })
  const r = nullptrResult(res)
  issued.push(r.session_token)
  assert.equal(Object.keys(r).sort(), ['session_id', 'session_token', 'user_id'])
  assert.is(r.user_id, reg.userId)
  const view = nullptrResult(await me(r.session_token, 'device-owner')).session
  assert.is(view.session_id, r.session_id)
  assert.is(view.device_name, 'Work laptop')
  assert.is(view.user_agent, 'chatgate-test/1.0')
  assert.is(view.ip, '127.0.0.1')
})

Login('should give two sessions with different tokens and ids for two logins', async () => {
  await signUp('twice')
  const a = await logIn('twice', 'password-123', 'phone')
  const b = await logIn('twice', 'password-123', 'phone')
  assert.is.not(a.token, b.token)
  assert.is.not(a.sessionId, b.sessionId)
  nullptrResult(await me(a.token, 'twice'))
  nullptrResult(await me(b.token, 'twice'))
  const devices = nullptrResult(await me(a.token, 'twice')).devices
  assert.is(devices.length, 3) // registration + two logins
})

Login('should refuse a well-formed unknown username with 401 INCORRECT_USERNAME', async () => {
  assertNullptrError(await loginRaw({ username: 'no-such-user', password: 'password-123' }), 401, 'INCORRECT_USERNAME')
  assertNullptrError(await loginRaw({ username: 'NO-SUCH-USER', password: 'password-123' }), 401, 'INCORRECT_USERNAME')
})

Login('should refuse a username that breaks the rule with 400 INVALID_USERNAME', async () => {
  for (const username of ['_not_even_valid', 'ab', 'a'.repeat(33), 'jürgen', '\u212Aelvin', 'x'.repeat(5000)]) {
    assertNullptrError(await loginRaw({ username, password: 'password-123' }), 400, 'INVALID_USERNAME')
  }
})

Login('should refuse a wrong password with 401 INCORRECT_PASSWORD and create no session', async () => {
  const u = await signUp('wrong-pw')
  assertNullptrError(await loginRaw({ username: 'wrong-pw', password: 'password-124' }), 401, 'INCORRECT_PASSWORD')
  assertNullptrError(await loginRaw({ username: 'wrong-pw', password: '' }), 401, 'INCORRECT_PASSWORD')
  assert.is((await srv.app.sessions.listSessions(u.userId)).length, 1)
})

Login('should refuse a disabled account with 403 ACCOUNT_DISABLED, after the password, and revoke its sessions', async () => {
  const u = await signUp('to-disable')
  const other = await logIn('to-disable')
  await srv.app.accounts.setDisabled(u.userId, true)
  assertNullptrError(await loginRaw({ username: 'to-disable', password: 'password-123' }), 403, 'ACCOUNT_DISABLED')
  // A wrong password does not learn that the account is disabled.
  assertNullptrError(await loginRaw({ username: 'to-disable', password: 'password-999' }), 401, 'INCORRECT_PASSWORD')
  assertNullptrError(await me(u.token, u.username), 401, 'UNAUTHORIZED')
  assertNullptrError(await me(other.token, other.username), 401, 'UNAUTHORIZED')
  assert.is((await srv.app.store.findSessionById(other.sessionId))?.revokedReason, 'account_disabled')
  await srv.app.accounts.setDisabled(u.userId, false)
  const again = await logIn('to-disable')
  nullptrResult(await me(again.token, again.username))
  // Re-enabling does not bring the revoked sessions back.
  assertNullptrError(await me(other.token, other.username), 401, 'UNAUTHORIZED')
})

// ─── GET /session and the session view ──────────────────────────────────────

const View = suite('sessions › GET /session')
View.before(() => start())
View.after(() => srv.close())

View('should return the current session and every live device of the caller only, newest first', async () => {
  const a = await signUp('viewer', 'password-123', 'first')
  clock.advance(1_000)
  const b = await logIn('viewer', 'password-123', 'second')
  clock.advance(1_000)
  const c = await logIn('viewer', 'password-123', 'third')
  await signUp('someone-else')
  await del('/session', c.token, c.username)
  const r = nullptrResult(await me(a.token, 'viewer'))
  assert.equal(Object.keys(r).sort(), ['devices', 'session'])
  assert.is(r.session.session_id, a.sessionId)
  assert.equal(
    r.devices.map((d: { session_id: string }) => d.session_id),
    [b.sessionId, a.sessionId],
  )
})

View('should show exactly the session-view fields, in ISO 8601 UTC, and never a token or hash', async () => {
  const a = await signUp('shape-viewer')
  const res = await me(a.token, a.username)
  const view = nullptrResult(res).session
  assert.equal(Object.keys(view).sort(), ['connections', 'created_at', 'device_name', 'expires_at', 'ip', 'last_seen_at', 'online', 'session_id', 'user_agent'])
  for (const key of ['created_at', 'last_seen_at', 'expires_at']) {
    assert.match(view[key], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
  }
  assert.is(Date.parse(view.expires_at) - Date.parse(view.created_at), TTL)
  assert.is(view.online, false)
  assert.is(view.connections, 0)
  const text = JSON.stringify(res.body)
  assert.not.ok(text.includes(a.token), 'the token must not be echoed')
  assert.not.ok(/hash/i.test(text))
})

// ─── UNAUTHORIZED ───────────────────────────────────────────────────────────

const Unauth = suite('sessions › UNAUTHORIZED')
Unauth.before(() => start())
Unauth.after(() => srv.close())

const authedRoutes: [string, string, unknown?][] = [
  ['GET', '/session'],
  ['DELETE', '/session'],
  ['DELETE', '/session/others'],
  ['DELETE', '/session/00000000-0000-4000-8000-000000000000'],
  ['PUT', '/user/password', { old_password: 'password-123', new_password: 'password-456' }],
]

async function assertRefusedEverywhere(headers: Record<string, string>, why: string) {
  for (const [method, path, body] of authedRoutes) {
    const res = await request(srv.url, method, path, { headers, ...(body ? { body } : {}) })
    assert.is(res.status, 401, `${why}: ${method} ${path} gave ${res.status}`)
    assertNullptrError(res, 401, 'UNAUTHORIZED')
  }
}

Unauth('should refuse missing, half-given and unknown credentials on every authenticated route', async () => {
  const u = await signUp('unauth-owner')
  await assertRefusedEverywhere({}, 'no headers')
  await assertRefusedEverywhere({ Token: u.token }, 'Token only')
  await assertRefusedEverywhere({ Username: u.username }, 'Username only')
  const flipped = (u.token[0] === 'A' ? 'B' : 'A') + u.token.slice(1)
  await assertRefusedEverywhere(authHeaders(flipped, u.username), 'one character changed')
  await assertRefusedEverywhere(
    authHeaders(u.token.toUpperCase() === u.token ? u.token.toLowerCase() : u.token.toUpperCase(), u.username),
    'token case changed',
  )
  await assertRefusedEverywhere(authHeaders(u.token.slice(0, -1), u.username), 'token truncated')
  await assertRefusedEverywhere(authHeaders('x'.repeat(256), u.username), 'long unknown token')
  // None of the refusals above touched the real session.
  nullptrResult(await me(u.token, u.username))
})

Unauth("should refuse a token presented with another user's username", async () => {
  const a = await signUp('owner-a')
  await signUp('owner-b')
  await assertRefusedEverywhere(authHeaders(a.token, 'owner-b'), 'mismatched username')
  await assertRefusedEverywhere(authHeaders(a.token, 'no-such-user'), 'unknown username')
  nullptrResult(await me(a.token, 'OWNER-A'))
})

Unauth('should refuse a revoked session', async () => {
  const u = await signUp('revoked-owner')
  await srv.app.sessions.revoke([u.sessionId], 'revoked_by_admin')
  await assertRefusedEverywhere(authHeaders(u.token, u.username), 'revoked')
})

Unauth('should refuse a session unused for SESSION_TTL_DAYS, and accept it one millisecond before', async () => {
  const u = await signUp('expiring')
  const v = await logIn('expiring')
  clock.advance(TTL - 1)
  nullptrResult(await me(v.token, v.username))
  // u was not used: it expires at exactly created + TTL.
  clock.advance(1)
  await assertRefusedEverywhere(authHeaders(u.token, u.username), 'expired')
  assert.not.ok(nullptrResult(await me(v.token, v.username)).devices.some((d: { session_id: string }) => d.session_id === u.sessionId))
})

Unauth('should refuse a live session row of a disabled account (a login that raced the disable)', async () => {
  const u = await signUp('raced-disable')
  await srv.app.accounts.setDisabled(u.userId, true)
  // The row a login would write if it passed its disabled check just before the disable committed.
  const now = clock.now()
  const insertRow = async () => {
    const token = createToken()
    await srv.app.store.createSession({
      id: createId(),
      userId: u.userId,
      kind: 'user',
      deviceName: 'raced',
      userAgent: '',
      ip: '127.0.0.1',
      createdAt: now,
      lastSeenAt: now,
      expiresAt: now + TTL,
      tokenHash: hashToken(token),
    })
    return token
  }
  await assertRefusedEverywhere(authHeaders(await insertRow(), u.username), 'disabled account')
  await srv.app.accounts.setDisabled(u.userId, false)
  nullptrResult(await me(await insertRow(), u.username)) // the same row of an enabled account works
})

Unauth('should answer credentials given twice or with control characters with 400 BAD_REQUEST', async () => {
  const u = await signUp('malformed-creds')
  assertNullptrError(await rawGet('/session', { token: [u.token, u.token], username: u.username }), 400, 'BAD_REQUEST')
  assertNullptrError(await rawGet('/session', { token: u.token, username: [u.username, u.username] }), 400, 'BAD_REQUEST')
  assertNullptrError(await rawGet('/session', { token: `${u.token} x`, username: u.username }), 400, 'BAD_REQUEST')
  assertNullptrError(await rawGet('/session', { token: 'x'.repeat(257), username: u.username }), 400, 'BAD_REQUEST')
})

// ─── revocation routes ──────────────────────────────────────────────────────

const Revoke = suite('sessions › revocation')
Revoke.before(() => start())
Revoke.after(() => srv.close())

Revoke('DELETE /session should log out this device only', async () => {
  const a = await signUp('logout-user')
  const b = await logIn('logout-user')
  assert.equal(nullptrResult(await del('/session', a.token, a.username)), {})
  assertNullptrError(await me(a.token, a.username), 401, 'UNAUTHORIZED')
  assertNullptrError(await del('/session', a.token, a.username), 401, 'UNAUTHORIZED')
  nullptrResult(await me(b.token, b.username))
  assert.is((await srv.app.store.findSessionById(a.sessionId))?.revokedReason, 'logout')
})

Revoke('DELETE /session/others should leave only the caller and touch no other user', async () => {
  const a = await signUp('others-user')
  const b = await logIn('others-user')
  const c = await logIn('others-user')
  const stranger = await signUp('others-stranger')
  assert.equal(nullptrResult(await del('/session/others', b.token, b.username)), { revoked: 2 })
  assertNullptrError(await me(a.token, a.username), 401, 'UNAUTHORIZED')
  assertNullptrError(await me(c.token, c.username), 401, 'UNAUTHORIZED')
  const devices = nullptrResult(await me(b.token, b.username)).devices
  assert.equal(
    devices.map((d: { session_id: string }) => d.session_id),
    [b.sessionId],
  )
  nullptrResult(await me(stranger.token, stranger.username))
  assert.equal(nullptrResult(await del('/session/others', b.token, b.username)), { revoked: 0 })
})

Revoke("DELETE /session/:id should revoke one of the caller's other sessions", async () => {
  const a = await signUp('one-by-id')
  const b = await logIn('one-by-id')
  const c = await logIn('one-by-id')
  assert.equal(nullptrResult(await del(`/session/${b.sessionId}`, a.token, a.username)), {})
  assertNullptrError(await me(b.token, b.username), 401, 'UNAUTHORIZED')
  nullptrResult(await me(a.token, a.username))
  nullptrResult(await me(c.token, c.username))
  assert.is((await srv.app.store.findSessionById(b.sessionId))?.revokedReason, 'revoked_by_user')
  // Revoking it again: it is no longer a live session of the caller.
  assertNullptrError(await del(`/session/${b.sessionId}`, a.token, a.username), 404, 'NOT_FOUND')
})

Revoke("DELETE /session/:id with the caller's own id should log it out", async () => {
  const a = await signUp('self-by-id')
  assert.equal(nullptrResult(await del(`/session/${a.sessionId}`, a.token, a.username)), {})
  assertNullptrError(await me(a.token, a.username), 401, 'UNAUTHORIZED')
})

Revoke("DELETE /session/:id of another user's session should be 404 and leave it live", async () => {
  const a = await signUp('victim')
  const attacker = await signUp('attacker')
  assertNullptrError(await del(`/session/${a.sessionId}`, attacker.token, attacker.username), 404, 'NOT_FOUND')
  nullptrResult(await me(a.token, a.username))
  assert.is((await srv.app.store.findSessionById(a.sessionId))?.revokedAt, null)
  for (const id of ['00000000-0000-4000-8000-000000000000', 'not-a-uuid', 'x'.repeat(150)]) {
    assertNullptrError(await del(`/session/${id}`, attacker.token, attacker.username), 404, 'NOT_FOUND')
  }
  nullptrResult(await me(attacker.token, attacker.username))
})

// ─── sliding expiry ─────────────────────────────────────────────────────────

const Sliding = suite('sessions › sliding expiry')
Sliding.before(() => start())
Sliding.after(() => srv.close())

Sliding('should move expires_at only when last use is at least 60 s old', async () => {
  const u = await signUp('slider')
  const t0 = clock.now()
  clock.advance(30_000)
  let view = nullptrResult(await me(u.token, u.username)).session
  assert.is(Date.parse(view.last_seen_at), t0, 'a use within 60 s must not write')
  assert.is(Date.parse(view.expires_at), t0 + TTL)
  clock.advance(31_000)
  view = nullptrResult(await me(u.token, u.username)).session
  assert.is(Date.parse(view.last_seen_at), t0 + 61_000)
  assert.is(Date.parse(view.expires_at), t0 + 61_000 + TTL)
  const stored = await srv.app.store.findSessionById(u.sessionId)
  assert.is(stored?.expiresAt, t0 + 61_000 + TTL, 'the slide must be persisted')
})

Sliding('should keep a session that is used at least once per TTL alive past several TTLs', async () => {
  const u = await signUp('kept-alive')
  const idle = await logIn('kept-alive')
  for (let i = 0; i < 3; i++) {
    clock.advance(TTL - DAY)
    nullptrResult(await me(u.token, u.username))
  }
  assertNullptrError(await me(idle.token, idle.username), 401, 'UNAUTHORIZED')
})

// ─── bursts and the password pool ───────────────────────────────────────────

const Burst = suite('sessions › login burst')
Burst.before(async () => {
  // The default bcrypt cost of 10 and the default pool size: the burst must hold at real cost.
  clock = createFakeClock()
  srv = await startServer({ BCRYPT_COST: '10' })
})
Burst.after(() => srv.close())

/** 50 logins at once over 5 accounts; asserts every one succeeded with its own session. */
async function assertBurstSucceeds(prefix: string, during?: () => Promise<() => Promise<void>>) {
  const names = ['a', 'b', 'c', 'd', 'e'].map((x) => `${prefix}-${x}`)
  await Promise.all(names.map((n) => signUp(n)))
  const finish = during ? await during() : async () => undefined
  let results: Res[]
  try {
    results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => loginRaw({ username: names[i % names.length], password: 'password-123', device_name: `burst-${i}` })),
    )
  } finally {
    await finish()
  }
  const statuses = results.map((r) => r.status)
  assert.equal(statuses, Array(50).fill(200), `statuses: ${statuses.join(',')}`)
  const ids = new Set(results.map((r) => r.body.result.session_id as string))
  assert.is(ids.size, 50)
  for (const r of results) issued.push(r.body.result.session_token)
  const first = results[0]!.body.result
  const devices = nullptrResult(await me(first.session_token, names[0]!)).devices
  assert.is(devices.length, 11) // registration + 10 logins
  assert.not.ok(srv.logs.some((l) => l.includes('SQLITE_BUSY')))
  assert.not.ok(
    srv.logs.some((l) => JSON.parse(l).level >= 50),
    'no error was logged',
  )
}

Burst('should let 50 parallel logins at the default bcrypt cost all succeed', async () => {
  await assertBurstSucceeds('burst')
})

const Busy = suite('sessions › login burst beside another writer')
Busy.before(() => start())
Busy.after(() => srv.close())

sqliteOnly(Busy, 'holds the SQLite write lock from a second process')(
  'should let 50 parallel logins all succeed with no SQLITE_BUSY while another process keeps writing to the file',
  async () => {
    let commits = 0
    await assertBurstSucceeds('busy', async () => {
      const holder = startLockHolder(srv.dbPath)
      await holder.ready
      return async () => {
        commits = await holder.stop()
      }
    })
    assert.ok(commits > 1, 'the other process kept writing during the burst')
  },
)

const Overload = suite('sessions › password pool')
Overload.before(async () => {
  srv = await startServer({ BCRYPT_COST: '10', HASH_WORKERS: '1', HASH_QUEUE_MAX: '1' })
})
Overload.after(() => srv.close())

Overload('should answer logins beyond the queue with 503 OVERLOADED and Retry-After, never 500', async () => {
  await signUp('queue-user')
  const results = await Promise.all(Array.from({ length: 10 }, () => loginRaw({ username: 'queue-user', password: 'password-123' })))
  const ok = results.filter((r) => r.status === 200)
  const overloaded = results.filter((r) => r.status === 503)
  assert.is(ok.length + overloaded.length, 10, `statuses: ${results.map((r) => r.status).join(',')}`)
  assert.ok(ok.length >= 1, 'the first logins get through')
  assert.ok(overloaded.length >= 1, 'a queue of one must refuse some of ten simultaneous logins')
  for (const r of overloaded) {
    assertNullptrError(r, 503, 'OVERLOADED')
    assert.is(r.headers.get('retry-after'), '1')
  }
  for (const r of ok) issued.push(r.body.result.session_token)
})

// ─── logs ───────────────────────────────────────────────────────────────────

const Logs = suite('sessions › logs')
Logs.before(() => start())
Logs.after(() => srv.close())

Logs('should never write a token or a password into a log line', async () => {
  await signUp('log-user', 'secret-password-1')
  await logIn('log-user', 'secret-password-1')
  await loginRaw({ username: 'log-user', password: 'wrong-password-2' })
  const u = await logIn('log-user', 'secret-password-1')
  await del('/session/others', u.token, u.username)
  await request(srv.url, 'PUT', '/user/password', {
    headers: authHeaders(u.token, u.username),
    body: { old_password: 'secret-password-1', new_password: 'secret-password-3' },
  })
  await del('/session', u.token, u.username)
  const text = srv.logs.join('\n')
  assert.ok(text.includes('"event":"login"'), 'logins are logged (so this test can see them)')
  for (const t of issued.slice(-3)) assert.not.ok(text.includes(t), 'a token reached the log')
  for (const p of ['secret-password-1', 'wrong-password-2', 'secret-password-3']) assert.not.ok(text.includes(p), `${p} reached the log`)
})

Login.run()
View.run()
Unauth.run()
Revoke.run()
Sliding.run()
Burst.run()
Busy.run()
Overload.run()
Logs.run()
