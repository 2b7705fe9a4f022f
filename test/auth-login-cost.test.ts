import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { assertDialogramError, assertNullptrError } from './helpers/envelopes.js'
import { createHasherSpy, type HasherSpy } from './helpers/hasher-spy.js'
import { registerUser, request } from './helpers/http.js'
import { startServer, type TestServer } from './helpers/server.js'

// ── refusals that must cost no bcrypt work: a server whose hasher counts every call ──

const cost = suite('login cost')
let srv: TestServer
let spy: HasherSpy

cost.before(async () => {
  spy = createHasherSpy({ cost: 4 })
  srv = await startServer({}, { deps: { hasher: spy } })
  await registerUser(srv.url, 'cost-user')
  await request(srv.url, 'POST', '/api/user', { body: { nickName: 'cost-mail', email: 'cost@example.com', password: 'password-123' } })
})
cost.after(async () => {
  await srv.close()
})

const post = (path: string, body: unknown) => request(srv.url, 'POST', path, { body })

cost('login cost › should refuse a password over 72 bytes before any bcrypt work, on every login and signup route', async () => {
  const before = spy.calls.length
  const ascii73 = 'a'.repeat(73)
  const utf8_74 = 'é'.repeat(37) // 37 characters, 74 bytes: a character count would let it through
  assertNullptrError(await post('/session', { username: 'cost-user', password: ascii73 }), 400, 'INVALID_PASSWORD')
  assertNullptrError(await post('/session', { username: 'cost-user', password: utf8_74 }), 400, 'INVALID_PASSWORD')
  assertNullptrError(await post('/session', { username: 'nobody-here', password: ascii73 }), 400, 'INVALID_PASSWORD')
  assertNullptrError(await post('/user/register', { username: 'long-pass', password: utf8_74 }), 400, 'INVALID_PASSWORD')
  assertDialogramError(await post('/api/session', { email: 'cost@example.com', password: ascii73 }), 400, 'INVALID_PASSWORD')
  assertDialogramError(await post('/api/backoffice/session', { username: 'admin', password: utf8_74 }), 400, 'INVALID_PASSWORD')
  assertDialogramError(await post('/api/user', { nickName: 'long-pass', email: 'lp@example.com', password: ascii73 }), 400, 'INVALID_PASSWORD')
  assert.equal(spy.calls.slice(before), [], 'a refused password reached the hasher')
  // Control: exactly 72 bytes is a real guess and does reach bcrypt.
  assertNullptrError(await post('/session', { username: 'cost-user', password: 'a'.repeat(72) }), 401, 'INCORRECT_PASSWORD')
  assert.equal(spy.calls.slice(before), [{ op: 'compare', bytes: 72 }])
})

cost('login cost › should refuse a body over 16 KiB with 413 before any bcrypt work', async () => {
  const before = spy.calls.length
  const huge = 'x'.repeat(20 * 1024)
  assertNullptrError(await post('/session', { username: 'cost-user', password: huge }), 413, 'PAYLOAD_TOO_LARGE')
  assertNullptrError(await post('/user/register', { username: 'huge-body', password: huge }), 413, 'PAYLOAD_TOO_LARGE')
  assertDialogramError(await post('/api/session', { email: 'cost@example.com', password: huge }), 413, 'PAYLOAD_TOO_LARGE')
  assert.is(spy.calls.length, before, 'an oversized body reached the hasher')
})

cost('login cost › should refuse non-ASCII or over-long usernames with INVALID_USERNAME before any bcrypt work', async () => {
  const before = spy.calls.length
  const bad = ['jürgen', 'İstanbul', 'ＡＤＭＩＮ', 'adm\u0131n', 'a'.repeat(33), 'b'.repeat(5000), '_hidden', 'ab']
  for (const username of bad) {
    assertNullptrError(await post('/session', { username, password: 'password-123' }), 400, 'INVALID_USERNAME')
    assertNullptrError(await post('/user/register', { username, password: 'password-123' }), 400, 'INVALID_USERNAME')
    const check = await request(srv.url, 'GET', `/user/checkUsername?username=${encodeURIComponent(username)}`)
    assertNullptrError(check, 400, 'INVALID_USERNAME')
  }
  assert.is(spy.calls.length, before, 'an invalid username reached the hasher')
  // The admin account is not reachable through a look-alike: 'adm\u0131n' (dotless i) is not 'admin'.
  assert.is((await post('/session', { username: 'ADMIN', password: 'admin-password-123' })).status, 200)
})

cost.run()

// ── the bcrypt queue bound: one worker, a queue of one, an expensive cost ──

const queue = suite('login queue')
let busy: TestServer

queue.before(async () => {
  busy = await startServer({ BCRYPT_COST: '11', HASH_WORKERS: '1', HASH_QUEUE_MAX: '1' })
  await registerUser(busy.url, 'burst-user')
})
queue.after(async () => {
  await busy.close()
})

queue('login cost › should answer 503 OVERLOADED with Retry-After beyond the hash queue bound, and recover', async () => {
  const burst = await Promise.all(
    Array.from({ length: 8 }, () => request(busy.url, 'POST', '/session', { body: { username: 'burst-user', password: 'password-123' } })),
  )
  const statuses = burst.map((r) => r.status)
  const ok = burst.filter((r) => r.status === 200)
  const overloaded = burst.filter((r) => r.status === 503)
  assert.is(ok.length + overloaded.length, burst.length, `unexpected statuses ${statuses}`)
  assert.ok(ok.length >= 1, `no login got through: ${statuses}`)
  assert.ok(overloaded.length >= 1, `the queue bound refused nothing: ${statuses}`)
  for (const res of overloaded) {
    assertNullptrError(res, 503, 'OVERLOADED')
    assert.match(res.headers.get('retry-after') ?? '', /^[1-9]\d*$/)
  }
  // The refusals were cheap and left nothing behind: the next login goes through.
  assert.is((await request(busy.url, 'POST', '/session', { body: { username: 'burst-user', password: 'password-123' } })).status, 200)
})

queue.run()
