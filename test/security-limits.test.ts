import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { RateLimiterMemory } from 'rate-limiter-flexible'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { memoryBackend, type LimiterBackend } from '../src/limits/backend.js'
import { clientKey } from '../src/limits/client-key.js'
import { createLimits } from '../src/limits/limits.js'
import { createLogger } from '../src/log.js'
import { openStore } from '../src/store/open.js'
import { assertDialogramError, assertNullptrError } from './helpers/envelopes.js'
import { createHasherSpy, type HasherSpy } from './helpers/hasher-spy.js'
import { request } from './helpers/http.js'
import { startServer, type TestServer } from './helpers/server.js'

const from = (ip: string) => ({ 'x-forwarded-for': ip })

/** Retry-After as a number of whole seconds, asserted to lie in [min, max]. */
function assertRetryAfter(headers: Headers, min: number, max: number): void {
  const value = headers.get('retry-after')
  assert.ok(value !== null && /^\d+$/.test(value), `Retry-After should be whole seconds, got ${value}`)
  const seconds = Number(value)
  assert.ok(seconds >= min && seconds <= max, `Retry-After ${seconds} not in [${min}, ${max}]`)
}

// ── over HTTP: a real server behind a "trusted proxy", so tests can speak from many IPs ──

const http = suite('limits')
let srv: TestServer
let spy: HasherSpy

http.before(async () => {
  spy = createHasherSpy({ cost: 4 })
  srv = await startServer(
    {
      TRUST_PROXY: 'true',
      LOGIN_ATTEMPTS_PER_ACCOUNT_PER_MIN: '3',
      LOGIN_ATTEMPTS_PER_IP_PER_MIN: '5',
      REGISTRATIONS_PER_IP_PER_HOUR: '2',
    },
    { deps: { hasher: spy } },
  )
})
http.after(async () => {
  await srv.close()
})

async function register(username: string, ip: string) {
  const res = await request(srv.url, 'POST', '/user/register', { body: { username, password: 'password-123' }, headers: from(ip) })
  assert.is(res.status, 201, JSON.stringify(res.body))
  return res.body.result as { user_id: string; session_token: string }
}

const loginFrom = (ip: string, username: string, password: string) => request(srv.url, 'POST', '/session', { body: { username, password }, headers: from(ip) })

http('limits › should refuse the fourth login to one account within a minute, from any IP, with 429 and Retry-After', async () => {
  const victim = await register('victim', '10.0.0.1')
  for (const ip of ['10.1.0.1', '10.1.0.2', '10.1.0.3']) {
    assertNullptrError(await loginFrom(ip, 'victim', 'wrong-password'), 401, 'INCORRECT_PASSWORD')
  }
  const limited = await loginFrom('10.1.0.4', 'VICTIM', 'password-123')
  assertNullptrError(limited, 429, 'RATE_LIMITED')
  assertRetryAfter(limited.headers, 1, 60)
  // Not a session: the right password during the lockout must not log anyone in.
  assert.is((await srv.app.sessions.listSessions(victim.user_id)).length, 1)
})

http('limits › should do no bcrypt work for a login refused by a limit', async () => {
  await register('spied', '10.0.0.2')
  for (const ip of ['10.5.0.1', '10.5.0.2', '10.5.0.3']) await loginFrom(ip, 'spied', 'wrong-password')
  const before = spy.calls.length
  for (const ip of ['10.5.0.4', '10.5.0.5', '10.5.0.6', '10.5.0.7']) {
    assertNullptrError(await loginFrom(ip, 'spied', 'wrong-password'), 429, 'RATE_LIMITED')
  }
  assert.is(spy.calls.length, before, 'a rate-limited login reached the hasher')
})

http('limits › should refuse logins from one IP past its limit, whatever accounts they name', async () => {
  for (let i = 0; i < 5; i++) assertNullptrError(await loginFrom('10.2.0.1', `nobody-${i}`, 'password-123'), 401, 'INCORRECT_USERNAME')
  const limited = await loginFrom('10.2.0.1', 'nobody-5', 'password-123')
  assertNullptrError(limited, 429, 'RATE_LIMITED')
  assertRetryAfter(limited.headers, 1, 60)
  // The limit is per IP, not global: a neighbour is still answered normally.
  assertNullptrError(await loginFrom('10.2.0.2', 'nobody-6', 'password-123'), 401, 'INCORRECT_USERNAME')
})

http('limits › should count only the proxy-appended X-Forwarded-For entry, not entries the client prepends', async () => {
  for (let i = 0; i < 5; i++) {
    const res = await loginFrom(`203.0.113.${i + 1}, 10.4.0.1`, `spoof-${i}`, 'password-123')
    assertNullptrError(res, 401, 'INCORRECT_USERNAME')
  }
  assertNullptrError(await loginFrom('203.0.113.99, 10.4.0.1', 'spoof-5', 'password-123'), 429, 'RATE_LIMITED')
})

http('limits › should let a correct login clear the account counter', async () => {
  await register('forgetful', '10.0.0.3')
  assertNullptrError(await loginFrom('10.6.0.1', 'forgetful', 'wrong-password'), 401, 'INCORRECT_PASSWORD')
  assertNullptrError(await loginFrom('10.6.0.2', 'forgetful', 'wrong-password'), 401, 'INCORRECT_PASSWORD')
  assert.is((await loginFrom('10.6.0.3', 'forgetful', 'password-123')).status, 200)
  assertNullptrError(await loginFrom('10.6.0.4', 'forgetful', 'wrong-password'), 401, 'INCORRECT_PASSWORD')
  assertNullptrError(await loginFrom('10.6.0.5', 'forgetful', 'wrong-password'), 401, 'INCORRECT_PASSWORD')
  assert.is((await loginFrom('10.6.0.6', 'forgetful', 'password-123')).status, 200)
})

http('limits › should answer 429 in the Dialogram envelope on /api/session, counted per email', async () => {
  const created = await request(srv.url, 'POST', '/api/user', {
    body: { nickName: 'dgram', email: 'Dgram@Example.com', password: 'password-123' },
    headers: from('10.0.0.4'),
  })
  assert.is(created.status, 201)
  for (const ip of ['10.7.0.1', '10.7.0.2', '10.7.0.3']) {
    const res = await request(srv.url, 'POST', '/api/session', { body: { email: 'dgram@example.com', password: 'nope-nope' }, headers: from(ip) })
    assertDialogramError(res, 401, 'INVALID_CREDENTIALS')
  }
  const limited = await request(srv.url, 'POST', '/api/session', { body: { email: 'DGRAM@example.com', password: 'password-123' }, headers: from('10.7.0.4') })
  assertDialogramError(limited, 429, 'RATE_LIMITED')
  assertRetryAfter(limited.headers, 1, 60)
})

http('limits › should limit registrations per IP across both dialects, with an hour-long Retry-After', async () => {
  await register('reg-one', '10.3.0.1')
  const dialogram = await request(srv.url, 'POST', '/api/user', {
    body: { nickName: 'reg-two', email: 'reg-two@example.com', password: 'password-123' },
    headers: from('10.3.0.1'),
  })
  assert.is(dialogram.status, 201)
  const limited = await request(srv.url, 'POST', '/user/register', { body: { username: 'reg-three', password: 'password-123' }, headers: from('10.3.0.1') })
  assertNullptrError(limited, 429, 'RATE_LIMITED')
  assertRetryAfter(limited.headers, 61, 3600)
  const limitedDialogram = await request(srv.url, 'POST', '/api/user', {
    body: { nickName: 'reg-four', email: 'reg-four@example.com', password: 'password-123' },
    headers: from('10.3.0.1'),
  })
  assertDialogramError(limitedDialogram, 429, 'RATE_LIMITED')
  // Nothing was created by the refused attempts; another IP still registers.
  const check = await request(srv.url, 'GET', '/user/checkUsername?username=reg-three')
  assert.is(check.body.result.available, true)
  await register('reg-three', '10.3.0.2')
})

http('limits › should count password-change guesses against the account login budget', async () => {
  const owner = await register('changer', '10.0.0.5')
  const headers = { Token: owner.session_token, Username: 'changer', ...from('10.8.0.1') }
  for (let i = 0; i < 3; i++) {
    const res = await request(srv.url, 'PUT', '/user/password', { body: { old_password: `guess-${i}-xx`, new_password: 'new-password-1' }, headers })
    assertNullptrError(res, 401, 'INCORRECT_PASSWORD')
  }
  const limited = await request(srv.url, 'PUT', '/user/password', { body: { old_password: 'password-123', new_password: 'new-password-1' }, headers })
  assertNullptrError(limited, 429, 'RATE_LIMITED')
})

http.run()

// ── the limiter itself, as the gateway will call it ──

const unit = suite('limits unit')
const limitsConfig = { loginPerAccountPerMin: 1, loginPerIpPerMin: 1, registerPerIpPerHour: 1, upgradesPerIpPerMin: 2 }

unit('limits › should group IPv6 clients by their /64 and leave IPv4 addresses alone', () => {
  assert.is(clientKey('198.51.100.7'), '198.51.100.7')
  assert.is(clientKey('::ffff:198.51.100.7'), '198.51.100.7')
  assert.is(clientKey('2001:db8:0:1::1'), clientKey('2001:0db8:0000:0001:ffff:ffff:ffff:ffff'))
  assert.is.not(clientKey('2001:db8:0:1::1'), clientKey('2001:db8:0:2::1'))
})

unit('limits › should let the gateway rate upgrades per IP with one call', async () => {
  const limits = createLimits(limitsConfig, memoryBackend)
  assert.equal(await limits.upgrade.consume('192.0.2.1'), { ok: true })
  assert.equal(await limits.upgrade.consume('192.0.2.1'), { ok: true })
  const third = await limits.upgrade.consume('192.0.2.1')
  assert.is(third.ok, false)
  assert.ok(!third.ok && third.retryAfterSec >= 1 && third.retryAfterSec <= 60)
  assert.equal(await limits.upgrade.consume('192.0.2.2'), { ok: true })
  // One /64 is one client.
  await limits.upgrade.consume('2001:db8::1')
  await limits.upgrade.consume('2001:db8::2')
  assert.is((await limits.upgrade.consume('2001:db8::3')).ok, false)
})

unit('limits › should fail closed with 500 and issue no session when the limiter store fails', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'chatgate-limits-'))
  const broken: LimiterBackend = (w) => {
    const counter = new RateLimiterMemory({ points: w.points, duration: w.durationSec })
    counter.consume = () => Promise.reject(new Error('store down'))
    return counter
  }
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', DATABASE_URL: join(dir, 'db.sqlite'), BCRYPT_COST: '4', LOG_LEVEL: 'silent' })
  const store = await openStore(config.databaseUrl)
  const app = createApp({ config, store, log: createLogger('silent'), limiterBackend: broken })
  try {
    const user = await app.accounts.createUser({ username: 'solid', password: 'password-123' })
    const { port } = await app.listen()
    const res = await request(`http://127.0.0.1:${port}`, 'POST', '/session', { body: { username: 'solid', password: 'password-123' } })
    assertNullptrError(res, 500, 'INTERNAL_ERROR')
    assert.is((await app.sessions.listSessions(user.id)).length, 0)
  } finally {
    await app.shutdown()
    rmSync(dir, { recursive: true, force: true })
  }
})

unit.run()
