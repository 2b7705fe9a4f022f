import fc from 'fast-check'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { isNestedDeeperThan, MAX_JSON_DEPTH } from '../src/http/body.js'
import { assertDialogramError, assertNullptrError, nullptrResult } from './helpers/envelopes.js'
import { authHeaders, backofficeLogin, registerUser, request, type Res } from './helpers/http.js'
import { openRaw, statusOf } from './helpers/raw-socket.js'
import { startServer, type TestServer } from './helpers/server.js'
import { within } from './helpers/wait-for.js'
import { connectOk, type TestClient } from './helpers/ws.js'

let srv: TestServer

/** POSTs raw body bytes as application/json and parses the JSON answer. */
async function postBytes(path: string, bytes: Buffer, headers: Record<string, string> = {}): Promise<Res> {
  const res = await fetch(srv.url + path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: bytes })
  const text = await res.text()
  return { status: res.status, body: JSON.parse(text), headers: res.headers }
}

/** `{"username":…,"password":"<bytes>"}` with the password's raw bytes spliced in, valid UTF-8 or not. */
const loginBytes = (fields: string, password: number[]) => Buffer.concat([Buffer.from(`{${fields}"password":"`), Buffer.from(password), Buffer.from('"}')])

// Two different runs of bytes that are not UTF-8; a lossy decoder turns both into 8 × U+FFFD.
const INVALID_A = [0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0xfa, 0xf9, 0xf8]
const INVALID_B = [0xc0, 0xc1, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa]
const REPLACEMENTS = '\ufffd'.repeat(8)

const sessionCount = async (username: string) => {
  const user = await srv.app.store.findUserByUsername(username)
  assert.ok(user, `${username} exists`)
  return (await srv.app.sessions.listSessions(user.id)).length
}

// ─── UTF-8 ──────────────────────────────────────────────────────────────────

const utf8 = suite('http › bodies that are not UTF-8')
utf8.before(async () => {
  srv = await startServer()
})
utf8.after(() => srv.close())

utf8('register › should refuse a body that is not valid UTF-8 with 400 and create no user', async () => {
  const res = await postBytes('/user/register', loginBytes('"username":"bytes-user",', INVALID_A))
  assertNullptrError(res, 400, 'BAD_REQUEST')
  assert.is(await srv.app.store.findUserByUsername('bytes-user'), null)
})

utf8('login › should refuse a password that is not UTF-8, so different invalid bytes never log in as each other', async () => {
  // The account's real password is 8 × U+FFFD, sent as valid UTF-8: what a lossy decoder makes of any 8 bad bytes.
  await registerUser(srv.url, 'fffd-user', REPLACEMENTS)
  for (const bytes of [INVALID_A, INVALID_B]) {
    assertNullptrError(await postBytes('/session', loginBytes('"username":"fffd-user",', bytes)), 400, 'BAD_REQUEST')
  }
  assert.is(await sessionCount('fffd-user'), 1, 'only the registration session exists')
  // The real password still works: the refusal is about the bytes, not the account.
  nullptrResult(await request(srv.url, 'POST', '/session', { body: { username: 'fffd-user', password: REPLACEMENTS } }))
})

utf8('dialogram › should refuse a body that is not UTF-8 in the Dialogram envelope and issue no session', async () => {
  const created = await request(srv.url, 'POST', '/api/user', { body: { nickName: 'fffd-dialo', email: 'fffd@example.com', password: REPLACEMENTS } })
  assert.is(created.status, 201, JSON.stringify(created.body))
  assertDialogramError(await postBytes('/api/session', loginBytes('"email":"fffd@example.com",', INVALID_B)), 400, 'BAD_REQUEST')
  assert.is(await sessionCount('fffd-dialo'), 1)
})

utf8('should read a multi-byte character split between two chunks of the body', async () => {
  await registerUser(srv.url, 'chunk-user')
  const body = Buffer.from(JSON.stringify({ username: 'chunk-user', password: 'password-123', device_name: 'Jürgen’s phone' }))
  const cut = body.indexOf(Buffer.from('ü')) + 1 // between the two bytes of ü
  const c = await openRaw(srv.port)
  try {
    await c.write('POST /session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n')
    for (const part of [body.subarray(0, cut), body.subarray(cut)])
      await c.write(Buffer.concat([Buffer.from(`${part.length.toString(16)}\r\n`), part, Buffer.from('\r\n')]))
    await c.write('0\r\n\r\n')
    await within(c.closed, 5_000, 'the login answer')
    assert.is(statusOf(c.received()), 200, c.received().slice(0, 300))
  } finally {
    c.destroy()
  }
  const user = await srv.app.store.findUserByUsername('chunk-user')
  const names = (await srv.app.sessions.listSessions(user!.id)).map((s) => s.deviceName)
  assert.ok(names.includes('Jürgen’s phone'), JSON.stringify(names))
})

utf8.run()

// ─── JSON depth ─────────────────────────────────────────────────────────────

const depth = suite('http › deeply nested JSON')
let admin: { token: string; username: string }
let pushee: TestClient

depth.before(async () => {
  srv = await startServer()
  admin = await backofficeLogin(srv.url)
  const user = await registerUser(srv.url, 'pushee')
  pushee = (await connectOk(srv.url, { token: user.token, username: user.username })).client
})
depth.after(async () => {
  await pushee.close()
  await srv.close()
})

/** `{"data": …}` where data is `levels` nested arrays (the body object itself is one more level). */
const nested = (levels: number) => `{"data":${'['.repeat(levels)}${']'.repeat(levels)}}`
const push = (raw: string) =>
  request(srv.url, 'POST', '/admin/users/pushee/events', { raw, headers: { ...authHeaders(admin.token, admin.username), 'content-type': 'application/json' } })

depth('push › should refuse data nested 7,000 levels deep with 400, deliver nothing and keep serving', async () => {
  const raw = nested(7_000)
  assert.ok(raw.length < 16 * 1024, 'fits the body limit')
  assertNullptrError(await push(raw), 400, 'BAD_REQUEST')
  await pushee.roundTrip()
  assert.not.ok(
    pushee.messages.some((f) => f.type === 'event'),
    'no event was delivered',
  )
  assert.not.ok(
    srv.logs.some((l) => l.includes('"level":50')),
    'nothing was logged as an error',
  )
  assert.is((await request(srv.url, 'GET', '/healthz')).status, 200)
})

depth('push › should accept a body 32 levels deep and refuse one 33 levels deep', async () => {
  assert.equal(nullptrResult(await push(nested(31))), { delivered: 1 })
  assert.is((await pushee.nextOfType('event')).type, 'event')
  assertNullptrError(await push(nested(32)), 400, 'BAD_REQUEST')
  const objects = `{"data":${'{"a":'.repeat(32)}1${'}'.repeat(32)}}`
  assertNullptrError(await push(objects), 400, 'BAD_REQUEST')
  await pushee.roundTrip()
  assert.is(pushee.unread().filter((f) => f.type === 'event').length, 0, 'the refused pushes delivered nothing')
})

depth('push › should not count brackets inside strings as nesting', async () => {
  const data = `[{"\\"[":"${'['.repeat(100)}\\\\"}]`
  assert.equal(nullptrResult(await push(`{"data":${data}}`)), { delivered: 1 })
  assert.equal((await pushee.nextOfType('event')).data, JSON.parse(data))
})

depth('isNestedDeeperThan › should agree with the depth of any JSON value, whatever its strings hold', () => {
  /** The nesting depth of a parsed value, by recursion (fine for these small values). */
  const depthOf = (v: unknown): number => (v !== null && typeof v === 'object' ? 1 + Math.max(0, ...Object.values(v as object).map(depthOf)) : 0)
  // Strings full of brackets, quotes and backslashes, to trip a scanner that miscounts.
  const tricky = fc.string({ unit: fc.constantFrom('[', ']', '{', '}', '"', '\\', 'a', ':', ','), maxLength: 12 })
  const value = fc.letrec((tie) => ({
    node: fc.oneof({ depthSize: 'small', maxDepth: MAX_JSON_DEPTH + 4 }, tricky, fc.integer(), fc.constant(null), tie('array'), tie('object')),
    array: fc.array(tie('node'), { maxLength: 3 }),
    object: fc.dictionary(tricky, tie('node'), { maxKeys: 3 }),
  })).node
  fc.assert(
    // Small limits most of the time: random values are rarely deep.
    fc.property(value, fc.oneof(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: MAX_JSON_DEPTH + 2 })), fc.boolean(), (v, max, indent) => {
      const text = JSON.stringify(v, null, indent ? 1 : 0)
      return isNestedDeeperThan(text, max) === depthOf(v) > max
    }),
    { numRuns: 1_000 },
  )
  // Deep chains, where the random values above rarely go.
  for (const n of [MAX_JSON_DEPTH, MAX_JSON_DEPTH + 1, 10_000]) {
    assert.is(isNestedDeeperThan('['.repeat(n) + ']'.repeat(n), MAX_JSON_DEPTH), n > MAX_JSON_DEPTH)
  }
})

depth.run()

// ─── client-chosen text ─────────────────────────────────────────────────────

const text = suite('http › client-chosen text')
text.before(async () => {
  srv = await startServer()
  await registerUser(srv.url, 'texter')
  const created = await request(srv.url, 'POST', '/api/user', { body: { nickName: 'dtexter', email: 'dtexter@example.com', password: 'password-123' } })
  assert.is(created.status, 201)
})
text.after(() => srv.close())

// C0 (TAB and NUL included), DEL and C1 (NEL, 8-bit CSI), each inside otherwise plain text.
const CONTROLS = ['\u0000', '\u0009', '\u000a', '\u001b', '\u001f', '\u007f', '\u0085', '\u009b', '\u009f']
const withControl = (c: string) => `my${c}phone`

/** Asserts a 400 BAD_REQUEST whose description names `field`. */
function assertNamesField(res: Res, field: string, dialect: 'nullptr' | 'dialogram'): void {
  if (dialect === 'nullptr') assertNullptrError(res, 400, 'BAD_REQUEST')
  else assertDialogramError(res, 400, 'BAD_REQUEST')
  const description: string = dialect === 'nullptr' ? res.body.error_info.description : res.body.errors[0].title
  assert.ok(description.includes(field), `${description} names ${field}`)
}

text('nullptr › should refuse a device_name holding a control character at login, and issue no session', async () => {
  for (const c of CONTROLS) {
    const res = await request(srv.url, 'POST', '/session', { body: { username: 'texter', password: 'password-123', device_name: withControl(c) } })
    assertNamesField(res, 'device_name', 'nullptr')
  }
  assert.is(await sessionCount('texter'), 1)
})

text('nullptr › should refuse a device_name over 64 characters and accept one of 64', async () => {
  const login = (device_name: string) => request(srv.url, 'POST', '/session', { body: { username: 'texter', password: 'password-123', device_name } })
  assertNamesField(await login('d'.repeat(65)), 'device_name', 'nullptr')
  assert.is(await sessionCount('texter'), 1)
  nullptrResult(await login('d'.repeat(64)))
})

text('nullptr › should refuse a device_name holding a control character at registration, and create no user', async () => {
  const res = await request(srv.url, 'POST', '/user/register', { body: { username: 'ctl-reg', password: 'password-123', device_name: withControl('\u009b') } })
  assertNamesField(res, 'device_name', 'nullptr')
  assert.is(await srv.app.store.findUserByUsername('ctl-reg'), null)
})

text('nullptr › should keep printable Unicode in a device name as sent', async () => {
  const name = 'Zoë’s 📱 — ünïcode'
  const res = await request(srv.url, 'POST', '/session', { body: { username: 'texter', password: 'password-123', device_name: name } })
  const result = nullptrResult(res)
  const stored = await srv.app.store.findSessionById(result.session_id)
  assert.is(stored?.deviceName, name)
})

text('dialogram › should refuse a control character in deviceName, nickName, profile names or email, and create no user', async () => {
  const valid = {
    nickName: 'ctl-dialo',
    email: 'ctl-dialo@example.com',
    password: 'password-123',
    profile: { firstName: 'Ada', lastName: 'Lovelace' },
    deviceName: 'iPhone',
  }
  const cases: [string, object][] = [
    ['deviceName', { deviceName: withControl('\u0000') }],
    ['nickName', { nickName: 'ctl-dialo\u0085' }],
    ['profile.firstName', { profile: { firstName: 'A\u001bda' } }],
    ['profile.lastName', { profile: { lastName: 'Love\u009blace' } }],
    ['email', { email: 'ctl-dialo\u0001@example.com' }],
    ['email', { email: 'ctl-dialo@example.com\n' }],
  ]
  for (const [field, change] of cases) {
    assertNamesField(await request(srv.url, 'POST', '/api/user', { body: { ...valid, ...change } }), field, 'dialogram')
  }
  assert.is(await srv.app.store.findUserByUsername('ctl-dialo'), null)
  assert.is(await srv.app.store.findUserByEmail('ctl-dialo@example.com'), null)
  assert.is((await request(srv.url, 'POST', '/api/user', { body: valid })).status, 201, 'the same body without the control character is fine')
})

text('dialogram › should refuse a deviceName with a control character or over 64 characters at login, and issue no session', async () => {
  const login = (deviceName: string) =>
    request(srv.url, 'POST', '/api/session', { body: { email: 'dtexter@example.com', password: 'password-123', deviceName } })
  assertNamesField(await login(withControl('\u007f')), 'deviceName', 'dialogram')
  assertNamesField(await login('d'.repeat(65)), 'deviceName', 'dialogram')
  assert.is(await sessionCount('dtexter'), 1)
  assert.is((await login('d'.repeat(64))).status, 201)
})

text('dialogram › should keep INVALID_USERNAME for a nickName that breaks the username rule', async () => {
  for (const nickName of ['ab', 'a'.repeat(65), 'bad name', '_under']) {
    const res = await request(srv.url, 'POST', '/api/user', { body: { nickName, email: 'rule@example.com', password: 'password-123' } })
    assertDialogramError(res, 400, 'INVALID_USERNAME')
  }
})

text.run()
