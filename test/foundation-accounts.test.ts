import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { assertDialogramError, assertNullptrError, nullptrResult } from './helpers/envelopes.js'
import { createHasherSpy, type HasherSpy } from './helpers/hasher-spy.js'
import { authHeaders, login, registerUser, request } from './helpers/http.js'
import { startServer, type TestServer } from './helpers/server.js'

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

let srv: TestServer
let spy: HasherSpy

async function startWithSpy(env: Record<string, string> = {}) {
  spy = createHasherSpy({ cost: 4 })
  srv = await startServer(env, { deps: { hasher: spy } })
}

const me = (token: string, username: string) => request(srv.url, 'GET', '/session', { headers: authHeaders(token, username) })
const register = (username: string, password = 'password-123') => request(srv.url, 'POST', '/user/register', { body: { username, password } })

/** Runs `fn` and returns how many calls reached the hasher meanwhile. */
async function hasherCallsDuring(fn: () => Promise<void>): Promise<number> {
  const before = spy.calls.length
  await fn()
  return spy.calls.length - before
}

// ─── registration ────────────────────────────────────────────────────────────

const Register = suite('accounts › register')
Register.before(() => startWithSpy())
Register.after(() => srv.close())

Register('should create the account and a first session, returning ids that are not the token', async () => {
  const res = await request(srv.url, 'POST', '/user/register', { body: { username: 'first-user', password: 'password-123', device_name: 'Pixel 8' } })
  const r = nullptrResult(res, 201)
  assert.equal(Object.keys(r).sort(), ['session_id', 'session_token', 'user_id'])
  assert.match(r.user_id, UUID_V4)
  assert.match(r.session_id, UUID_V4)
  assert.match(r.session_token, /^[A-Za-z0-9_-]{32,}$/)
  assert.is.not(r.session_token, r.session_id)
  const session = nullptrResult(await me(r.session_token, 'first-user')).session
  assert.is(session.session_id, r.session_id)
  assert.is(session.device_name, 'Pixel 8')
})

Register('should name the device "Unknown" when device_name is absent', async () => {
  const u = await registerUser(srv.url, 'no-device')
  assert.is(nullptrResult(await me(u.token, u.username)).session.device_name, 'Unknown')
})

Register('should accept usernames at the edges of the rule', async () => {
  for (const name of ['abc', 'a'.repeat(32), 'a_b-c', '-dash-first', '123', 'trailing_']) {
    nullptrResult(await register(name), 201)
  }
})

Register('should store a mixed-case username lowercased and log it in with any case', async () => {
  const r = nullptrResult(await register('MiXeD_Case'), 201)
  const user = await srv.app.store.findUserByUsername('mixed_case')
  assert.is(user?.id, r.user_id)
  assert.is(await srv.app.store.findUserByUsername('MiXeD_Case'), null)
  const upper = await login(srv.url, 'MIXED_CASE')
  const lower = await login(srv.url, 'mixed_case')
  assert.is(upper.userId, r.user_id)
  assert.is(lower.userId, r.user_id)
  // The Username header is lowercased before the compare too.
  nullptrResult(await me(upper.token, 'Mixed_CASE'))
})

Register('should refuse invalid usernames with 400 INVALID_USERNAME, create nothing and hash nothing', async () => {
  const bad = [
    '_leading-underscore',
    '_ab',
    'ab',
    '',
    'a'.repeat(33),
    'a'.repeat(5000),
    'jürgen',
    'naïve',
    '\u212Aelvin', // KELVIN SIGN: toLowerCase() would make it "kelvin"; ASCII lowercasing must not
    '\u0130stanbul', // dotted capital I
    'ÄBC',
    'ａｂｃ',
    'with space',
    'dot.name',
    'at@sign',
    'emoji😀',
    'tab\tname',
    'newline\n',
  ]
  for (const name of bad) {
    const calls = await hasherCallsDuring(async () => {
      assertNullptrError(await register(name), 400, 'INVALID_USERNAME')
    })
    assert.is(calls, 0, `${JSON.stringify(name)} reached the hasher`)
  }
  assert.is(await srv.app.store.findUserByUsername('kelvin'), null)
  assert.is(await srv.app.store.findUserByUsername('istanbul'), null)
})

Register('should refuse a taken username in any case with 409 USERNAME_TAKEN and keep the first account', async () => {
  const first = await registerUser(srv.url, 'taken-name', 'first-password')
  assertNullptrError(await register('taken-name', 'second-password'), 409, 'USERNAME_TAKEN')
  assertNullptrError(await register('TAKEN-Name', 'second-password'), 409, 'USERNAME_TAKEN')
  assertNullptrError(await register('admin', 'second-password'), 409, 'USERNAME_TAKEN')
  assert.is((await login(srv.url, 'taken-name', 'first-password')).userId, first.userId)
  assertNullptrError(await request(srv.url, 'POST', '/session', { body: { username: 'taken-name', password: 'second-password' } }), 401, 'INCORRECT_PASSWORD')
})

// ─── password rule: 8 to 72 bytes of UTF-8 ──────────────────────────────────

const Passwords = suite('accounts › password bytes')
Passwords.before(() => startWithSpy())
Passwords.after(() => srv.close())

Passwords('should accept 8 and 72 bytes, refuse 7 and 73, counting multi-byte UTF-8 in bytes', async () => {
  const cases: [string, string, boolean][] = [
    ['ascii-7', 'a'.repeat(7), false],
    ['ascii-8', 'a'.repeat(8), true],
    ['ascii-72', 'p'.repeat(72), true],
    ['ascii-73', 'p'.repeat(73), false],
    ['two-byte-8', 'é'.repeat(4), true], // 4 characters, 8 bytes
    ['two-byte-7', `${'é'.repeat(3)}a`, false], // 4 characters, 7 bytes
    ['two-byte-72', 'é'.repeat(36), true],
    ['two-byte-73', `${'é'.repeat(36)}a`, false], // 37 characters, 73 bytes
    ['three-byte-72', '€'.repeat(24), true],
    ['three-byte-75', '€'.repeat(25), false], // 25 characters, 75 bytes
    ['four-byte-72', '😀'.repeat(18), true], // 36 UTF-16 units
    ['four-byte-76', '😀'.repeat(19), false], // 38 UTF-16 units, 76 bytes
  ]
  for (const [name, password, ok] of cases) {
    const res = await register(name, password)
    if (ok) {
      nullptrResult(res, 201)
      await login(srv.url, name, password)
    } else {
      assertNullptrError(res, 400, 'INVALID_PASSWORD')
      assert.is(await srv.app.store.findUserByUsername(name), null, `${name} must not exist`)
    }
  }
})

Passwords('should never truncate: a 72-byte password plus one more byte does not log in', async () => {
  const base = 'k'.repeat(72)
  const owner = await registerUser(srv.url, 'truncation', base)
  for (const extra of ['k', 'x', 'é']) {
    const res = await request(srv.url, 'POST', '/session', { body: { username: 'truncation', password: base + extra } })
    assertNullptrError(res, 400, 'INVALID_PASSWORD')
  }
  assert.is((await srv.app.sessions.listSessions(owner.userId)).length, 1, 'no session was issued')
  await login(srv.url, 'truncation', base)
})

Passwords('should refuse passwords of 73 bytes to 16 000 bytes without any hashing, on every route', async () => {
  await registerUser(srv.url, 'long-pw-owner', 'password-123')
  const owner = await login(srv.url, 'long-pw-owner', 'password-123')
  const dialogramOwner = await request(srv.url, 'POST', '/api/user', {
    body: { nickName: 'long-pw-dialogram', email: 'long-pw@example.com', password: 'password-123' },
  })
  assert.is(dialogramOwner.status, 201)
  for (const size of [73, 100, 1000, 16_000]) {
    const long = 'L'.repeat(size)
    const calls = await hasherCallsDuring(async () => {
      assertNullptrError(await register(`long-${size}`, long), 400, 'INVALID_PASSWORD')
      assertNullptrError(await request(srv.url, 'POST', '/session', { body: { username: 'long-pw-owner', password: long } }), 400, 'INVALID_PASSWORD')
      assertNullptrError(await request(srv.url, 'POST', '/session', { body: { username: 'nobody-at-all', password: long } }), 400, 'INVALID_PASSWORD')
      const change = { headers: authHeaders(owner.token, owner.username) }
      assertNullptrError(
        await request(srv.url, 'PUT', '/user/password', { ...change, body: { old_password: 'password-123', new_password: long } }),
        400,
        'INVALID_PASSWORD',
      )
      assertNullptrError(
        await request(srv.url, 'PUT', '/user/password', { ...change, body: { old_password: long, new_password: 'password-456' } }),
        401,
        'INCORRECT_PASSWORD',
      )
      assertDialogramError(
        await request(srv.url, 'POST', '/api/user', { body: { nickName: `dlong-${size}`, email: `dlong-${size}@example.com`, password: long } }),
        400,
        'INVALID_PASSWORD',
      )
      assertDialogramError(await request(srv.url, 'POST', '/api/session', { body: { email: 'long-pw@example.com', password: long } }), 400, 'INVALID_PASSWORD')
      assertDialogramError(await request(srv.url, 'POST', '/api/backoffice/session', { body: { username: 'admin', password: long } }), 400, 'INVALID_PASSWORD')
    })
    assert.is(calls, 0, `a ${size}-byte password reached the hasher`)
  }
  assert.equal(spy.callsOver(72), [])
  // Nothing was revoked or changed by the refused password changes.
  await login(srv.url, 'long-pw-owner', 'password-123')
  nullptrResult(await me(owner.token, owner.username))
})

Passwords('should keep the session service itself from hashing an over-72-byte password (any caller, not only the routes)', async () => {
  const device = { deviceName: 'direct', userAgent: '', ip: '127.0.0.1' }
  await registerUser(srv.url, 'direct-caller', 'password-123')
  const calls = await hasherCallsDuring(async () => {
    assert.equal(await srv.app.sessions.login({ username: 'direct-caller' }, 'D'.repeat(73), device), { ok: false, failure: 'WRONG_PASSWORD' })
    assert.equal(await srv.app.sessions.login({ username: 'nobody-direct' }, 'D'.repeat(73), device), { ok: false, failure: 'UNKNOWN_USER' })
    assert.equal(await srv.app.sessions.login({ email: 'nobody@example.com' }, 'D'.repeat(5000), device), { ok: false, failure: 'UNKNOWN_USER' })
  })
  assert.is(calls, 0)
})

Passwords('should refuse a 1 MB password with 413 before reading it, and hash nothing', async () => {
  const huge = 'M'.repeat(1024 * 1024)
  const calls = await hasherCallsDuring(async () => {
    assertNullptrError(await register('megabyte', huge), 413, 'PAYLOAD_TOO_LARGE')
    assertNullptrError(await request(srv.url, 'POST', '/session', { body: { username: 'admin', password: huge } }), 413, 'PAYLOAD_TOO_LARGE')
    assertDialogramError(await request(srv.url, 'POST', '/api/session', { body: { email: 'a@example.com', password: huge } }), 413, 'PAYLOAD_TOO_LARGE')
  })
  assert.is(calls, 0)
  assert.is(await srv.app.store.findUserByUsername('megabyte'), null)
})

// ─── checkUsername ──────────────────────────────────────────────────────────

const Check = suite('accounts › checkUsername')
Check.before(() => startWithSpy())
Check.after(() => srv.close())

const check = (q: string) => request(srv.url, 'GET', `/user/checkUsername${q}`)

Check('should say a free name is available and a taken one, in any case, is not', async () => {
  assert.equal(nullptrResult(await check('?username=fresh-name')), { available: true })
  await registerUser(srv.url, 'fresh-name')
  assert.equal(nullptrResult(await check('?username=fresh-name')), { available: false })
  assert.equal(nullptrResult(await check('?username=FRESH-Name')), { available: false })
  assert.equal(nullptrResult(await check('?username=admin')), { available: false })
})

Check('should refuse a missing or invalid username with 400 INVALID_USERNAME', async () => {
  for (const q of [
    '',
    '?username=',
    '?username=_x',
    '?username=ab',
    `?username=${'a'.repeat(33)}`,
    '?username=j%C3%BCrgen',
    `?username=${'a'.repeat(5000)}`,
    '?username=%E2%84%AAelvin',
  ]) {
    assertNullptrError(await check(q), 400, 'INVALID_USERNAME')
  }
})

Check('should never touch the hasher', async () => {
  assert.is(await hasherCallsDuring(async () => void (await check('?username=whatever'))), 0)
})

// ─── SIGNUP=closed ──────────────────────────────────────────────────────────

const Closed = suite('accounts › SIGNUP=closed')
Closed.before(() => startWithSpy({ SIGNUP: 'closed' }))
Closed.after(() => srv.close())

Closed('should refuse registration in both dialects with 403 SIGNUP_CLOSED and create nothing', async () => {
  const calls = await hasherCallsDuring(async () => {
    assertNullptrError(await register('late-comer'), 403, 'SIGNUP_CLOSED')
    assertDialogramError(
      await request(srv.url, 'POST', '/api/user', { body: { nickName: 'late-comer', email: 'late@example.com', password: 'password-123' } }),
      403,
      'SIGNUP_CLOSED',
    )
  })
  assert.is(calls, 0)
  assert.is(await srv.app.store.findUserByUsername('late-comer'), null)
  assert.is(await srv.app.store.findUserByEmail('late@example.com'), null)
})

Closed('should still let existing accounts log in and operators create accounts', async () => {
  await srv.app.accounts.createUser({ username: 'made-by-operator', password: 'password-123' })
  await login(srv.url, 'made-by-operator')
  const bo = await request(srv.url, 'POST', '/api/backoffice/session', { body: { username: 'admin', password: 'admin-password-123' } })
  assert.is(bo.status, 201)
})

// ─── password change ────────────────────────────────────────────────────────

const Change = suite('accounts › password change')
Change.before(() => startWithSpy())
Change.after(() => srv.close())

const changePassword = (token: string, username: string, body: unknown) =>
  request(srv.url, 'PUT', '/user/password', { headers: authHeaders(token, username), body })

Change("should revoke every other session, keep the caller's, and swap the passwords", async () => {
  const a = await registerUser(srv.url, 'changer', 'old-password')
  const b = await login(srv.url, 'changer', 'old-password', 'phone')
  const c = await login(srv.url, 'changer', 'old-password', 'tablet')
  const bystander = await registerUser(srv.url, 'bystander')
  assert.equal(nullptrResult(await changePassword(b.token, b.username, { old_password: 'old-password', new_password: 'new-password' })), {})
  nullptrResult(await me(b.token, b.username))
  assertNullptrError(await me(a.token, a.username), 401, 'UNAUTHORIZED')
  assertNullptrError(await me(c.token, c.username), 401, 'UNAUTHORIZED')
  const devices = nullptrResult(await me(b.token, b.username)).devices
  assert.equal(
    devices.map((d: { session_id: string }) => d.session_id),
    [b.sessionId],
  )
  assertNullptrError(await request(srv.url, 'POST', '/session', { body: { username: 'changer', password: 'old-password' } }), 401, 'INCORRECT_PASSWORD')
  await login(srv.url, 'changer', 'new-password')
  nullptrResult(await me(bystander.token, bystander.username))
  assert.is((await srv.app.store.findSessionById(a.sessionId))?.revokedReason, 'password_changed')
})

Change('should refuse a wrong old password with 401 INCORRECT_PASSWORD and revoke nothing', async () => {
  const a = await registerUser(srv.url, 'wrong-old', 'old-password')
  const b = await login(srv.url, 'wrong-old', 'old-password')
  assertNullptrError(await changePassword(a.token, a.username, { old_password: 'not-the-password', new_password: 'new-password' }), 401, 'INCORRECT_PASSWORD')
  nullptrResult(await me(b.token, b.username))
  await login(srv.url, 'wrong-old', 'old-password')
})

Change('should refuse an invalid new password with 400 INVALID_PASSWORD and revoke nothing', async () => {
  const a = await registerUser(srv.url, 'bad-new', 'old-password')
  const b = await login(srv.url, 'bad-new', 'old-password')
  for (const next of ['short', 'x'.repeat(73), 'é'.repeat(37)]) {
    assertNullptrError(await changePassword(a.token, a.username, { old_password: 'old-password', new_password: next }), 400, 'INVALID_PASSWORD')
  }
  nullptrResult(await me(b.token, b.username))
  await login(srv.url, 'bad-new', 'old-password')
})

Change('should require a session and a well-formed body', async () => {
  assertNullptrError(await request(srv.url, 'PUT', '/user/password', { body: { old_password: 'a-password', new_password: 'b-password' } }), 401, 'UNAUTHORIZED')
  const a = await registerUser(srv.url, 'shape-check')
  assertNullptrError(await changePassword(a.token, a.username, { old_password: 'password-123' }), 400, 'BAD_REQUEST')
  assertNullptrError(await changePassword(a.token, a.username, { old_password: 'password-123', new_password: 12345678 }), 400, 'BAD_REQUEST')
})

Register.run()
Passwords.run()
Check.run()
Closed.run()
Change.run()
