import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createApp } from '../src/app.js'
import { createPasswordHasher } from '../src/auth/passwords.js'
import { loadConfig } from '../src/config.js'
import { createLogger } from '../src/log.js'
import { createMetrics } from '../src/metrics.js'
import { openStore } from '../src/store/open.js'
import { authHeaders, backofficeLogin, login, registerUser, request } from './helpers/http.js'
import { startServer, type TestServer } from './helpers/server.js'

/** The value of one sample line (`name{labels} value`), or 0 when the series does not exist yet. */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `))
  return line ? Number(line.slice(series.length + 1)) : 0
}

const scrape = async (url: string, headers: Record<string, string> = {}) => {
  const res = await fetch(`${url}/metrics`, { headers })
  return { status: res.status, type: res.headers.get('content-type'), text: await res.text() }
}

/** The observer shape the gateway calls; the app's metrics must satisfy it without an import on its side. */
type GatewayObserver = { handshake(result: string, seconds: number): void; connectionOpened(): void; connectionClosed(code: number): void }

const open = suite('metrics (open)')
let srv: TestServer

open.before(async () => {
  srv = await startServer()
})
open.after(async () => {
  await srv.close()
})

open('metrics › should serve Prometheus text without auth, with every chatgate series and the event-loop lag', async () => {
  const m = await scrape(srv.url)
  assert.is(m.status, 200)
  assert.match(m.type!, /^text\/plain; version=0\.0\.4/)
  for (const name of [
    'chatgate_connections',
    'chatgate_handshakes_total',
    'chatgate_logins_total',
    'chatgate_login_queue_depth',
    'nodejs_eventloop_lag_seconds',
    'nodejs_eventloop_lag_p99_seconds',
  ]) {
    assert.match(m.text, new RegExp(`^# TYPE ${name} `, 'm'), name)
  }
})

open('metrics › should count logins of both dialects by kind and result', async () => {
  const before = (await scrape(srv.url)).text
  const ok = 'chatgate_logins_total{kind="user",result="ok"}'
  const wrong = 'chatgate_logins_total{kind="user",result="wrong_password"}'
  const unknown = 'chatgate_logins_total{kind="user",result="unknown_user"}'
  const backoffice = 'chatgate_logins_total{kind="backoffice",result="ok"}'

  await registerUser(srv.url, 'mona') // a registration is not a login
  await login(srv.url, 'mona')
  const reg = await request(srv.url, 'POST', '/api/user', { body: { nickName: 'nils', email: 'nils@example.com', password: 'password-123' } })
  assert.is(reg.status, 201)
  assert.is((await request(srv.url, 'POST', '/api/session', { body: { email: 'nils@example.com', password: 'password-123' } })).status, 201)
  assert.is((await request(srv.url, 'POST', '/session', { body: { username: 'mona', password: 'wrong-password' } })).status, 401)
  assert.is((await request(srv.url, 'POST', '/api/session', { body: { email: 'nils@example.com', password: 'wrong-password' } })).status, 401)
  assert.is((await request(srv.url, 'POST', '/session', { body: { username: 'nobody', password: 'password-123' } })).status, 401)
  assert.is((await request(srv.url, 'POST', '/api/backoffice/session', { body: { username: 'admin', password: 'admin-password-123' } })).status, 201)

  const after = (await scrape(srv.url)).text
  assert.is(sample(after, ok) - sample(before, ok), 2)
  assert.is(sample(after, wrong) - sample(before, wrong), 2)
  assert.is(sample(after, unknown) - sample(before, unknown), 1)
  assert.is(sample(after, backoffice) - sample(before, backoffice), 1)
})

open('metrics › should count revocations by reason', async () => {
  const series = 'chatgate_sessions_revoked_total{reason="logout"}'
  const before = sample((await scrape(srv.url)).text, series)
  const olaf = await registerUser(srv.url, 'olaf')
  const second = await login(srv.url, 'olaf')
  await request(srv.url, 'DELETE', '/session', { headers: authHeaders(olaf.token, 'olaf') })
  await request(srv.url, 'DELETE', '/session/others', { headers: authHeaders(second.token, 'olaf') })
  const text = (await scrape(srv.url)).text
  assert.is(sample(text, series) - before, 1)
  assert.is(sample(text, 'chatgate_sessions_revoked_total{reason="revoked_by_user"}'), 0, 'nothing else was left to revoke')
})

open('metrics › should count operator changes by action and caller, and not listings', async () => {
  await registerUser(srv.url, 'opal')
  const admin = await backofficeLogin(srv.url)
  await request(srv.url, 'GET', '/admin/devices', { headers: authHeaders(admin.token, admin.username) })
  await request(srv.url, 'POST', '/admin/users/opal/disable', { headers: authHeaders(admin.token, admin.username) })
  const text = (await scrape(srv.url)).text
  assert.is(sample(text, 'chatgate_operator_actions_total{action="disable_user",via="http"}'), 1)
  assert.is(sample(text, 'chatgate_operator_actions_total{action="list_devices",via="http"}'), 0)
})

open("metrics › should count the gateway's handshakes and connections through the observer object", async () => {
  const observer: GatewayObserver = srv.app.metrics
  observer.handshake('ok', 0.01)
  observer.handshake('ok', 0.01)
  observer.handshake('UNAUTHORIZED', 0.002)
  observer.connectionOpened()
  observer.connectionOpened()
  observer.connectionClosed(4501)
  observer.connectionClosed(3999)
  observer.connectionOpened()
  const text = (await scrape(srv.url)).text
  assert.is(sample(text, 'chatgate_handshakes_total{result="ok"}'), 2)
  assert.is(sample(text, 'chatgate_handshakes_total{result="unauthorized"}'), 1)
  assert.is(sample(text, 'chatgate_connections'), 1)
  assert.is(sample(text, 'chatgate_connections_closed_total{code="4501"}'), 1)
  assert.is(sample(text, 'chatgate_connections_closed_total{code="other"}'), 1, 'a code outside the table is folded')
  assert.not.match(text, /code="3999"/)
})

open.run()

const standalone = suite('metrics (standalone)')

standalone('metrics › should bound the values a label can take', async () => {
  const metrics = createMetrics()
  for (let i = 0; i < 100; i++) metrics.handshake(`result_${i}`, 0)
  metrics.handshake('Not A Label!', 0)
  const text = await metrics.render()
  const values = text.split('\n').filter((l) => l.startsWith('chatgate_handshakes_total{'))
  assert.ok(values.length <= 34, `${values.length} series`)
  assert.ok(sample(text, 'chatgate_handshakes_total{result="other"}') >= 69)
})

standalone('metrics › should read the login queue depth from the password pool on each scrape', async () => {
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', DATABASE_URL: ':memory:', BCRYPT_COST: '4', LOG_LEVEL: 'silent' })
  const real = createPasswordHasher({ cost: 4, threads: 1, maxQueue: 10 })
  let depth = 3
  const hasher = {
    ...real,
    compareDummy: real.compareDummy,
    close: real.close,
    get queueDepth() {
      return depth
    },
  }
  const app = createApp({ config, store: await openStore(':memory:'), log: createLogger('silent'), hasher })
  try {
    assert.is(sample(await app.metrics.render(), 'chatgate_login_queue_depth'), 3)
    depth = 11
    assert.is(sample(await app.metrics.render(), 'chatgate_login_queue_depth'), 11)
  } finally {
    await app.shutdown()
  }
})

standalone.run()

const METRICS_TOKEN = 'metrics-token-0123456789'
const guarded = suite('metrics (METRICS_TOKEN)')
let locked: TestServer

guarded.before(async () => {
  locked = await startServer({ METRICS_TOKEN })
})
guarded.after(async () => {
  await locked.close()
})

guarded('metrics › should require the bearer when METRICS_TOKEN is set', async () => {
  const none = await scrape(locked.url)
  assert.is(none.status, 401)
  assert.equal(JSON.parse(none.text).error_info.error_code, 'UNAUTHORIZED')
  assert.is((await scrape(locked.url, { authorization: `Bearer ${METRICS_TOKEN}x` })).status, 401)
  assert.is((await scrape(locked.url, { authorization: METRICS_TOKEN })).status, 401)
  const good = await scrape(locked.url, { authorization: `Bearer ${METRICS_TOKEN}` })
  assert.is(good.status, 200)
  assert.match(good.text, /chatgate_logins_total/)
  assert.is((await scrape(locked.url, { authorization: `bearer ${METRICS_TOKEN}` })).status, 200, 'the scheme is case-insensitive')
})

guarded('metrics › should keep one registry per app: this server has not seen the other server’s logins', async () => {
  const text = (await scrape(locked.url, { authorization: `Bearer ${METRICS_TOKEN}` })).text
  assert.is(sample(text, 'chatgate_logins_total{kind="user",result="ok"}'), 0)
  assert.is(sample(text, 'chatgate_handshakes_total{result="ok"}'), 0)
})

guarded.run()
