import { test } from 'uvu'
import type { Connection } from '../src/client/connection.js'
import * as assert from 'uvu/assert'
import { ChatgateClient, countTraffic, failOnUnhandledRejection, nextEvent } from './helpers/client.js'
import { startFreezableProxy } from './helpers/freezable-proxy.js'
import { startServer, type TestServer } from './helpers/server.js'

/** CLIENT.md's reconnect table, row by row, against a real server on port 0 (counts taken on the server). */
let srv: TestServer
const unhandled = failOnUnhandledRejection()
test.before(async () => {
  srv = await startServer()
})
test.after(async () => {
  await srv.close()
  assert.equal(unhandled, [])
})

/** Every connection a test opens is closed after it, so a failing test cannot leave one reconnecting. */
const opened: Connection[] = []
const connectOf = (client: ChatgateClient) => {
  const conn = client.connect()
  opened.push(conn)
  return conn
}
test.after.each(() => {
  for (const c of opened.splice(0)) c.close()
})

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
let n = 0
async function signedIn(server = srv, device = 'phone') {
  const client = new ChatgateClient({ baseUrl: server.url })
  await client.register({ username: `user${++n}`, password: 'password-123', deviceName: device })
  return client
}

test('reconnect › a second device with the same pair should end the first with replaced (4500), and the first should not come back', async () => {
  const first = await signedIn()
  const conn = connectOf(first)
  const welcome = await nextEvent(conn, 'welcome')
  assert.is(conn.state, 'open')
  const second = new ChatgateClient({ baseUrl: srv.url })
  second.restore(first.credentials!)
  const traffic = countTraffic(srv.app.server)
  const ended = nextEvent(conn, 'ended')
  const other = connectOf(second)
  const secondWelcome = await nextEvent(other, 'welcome')
  assert.equal(await ended, { reason: 'replaced', code: 4500 })
  assert.is(conn.state, 'ended')
  assert.ok(first.credentials, 'replaced keeps the credentials: the app may ask the user to take over')
  assert.is.not(secondWelcome.connectionId, welcome.connectionId)
  await sleep(1500) // the first's fastest reconnect would come within 0.5 s
  assert.is(traffic.upgrades.length, 1, 'only the second device upgraded')
  assert.is(other.state, 'open')
  traffic.stop()
  other.close()
})

test('reconnect › a logout from another device should end with revoked (4501), drop the credentials, then zero upgrade attempts for 10 s', async () => {
  const phone = await signedIn()
  const laptop = new ChatgateClient({ baseUrl: srv.url })
  await laptop.login({ username: phone.credentials!.username, password: 'password-123', deviceName: 'laptop' })
  const conn = connectOf(phone)
  const states: string[] = []
  conn.on('state', (s) => states.push(s))
  await nextEvent(conn, 'welcome')
  const traffic = countTraffic(srv.app.server)
  const ended = nextEvent(conn, 'ended')
  assert.equal(await laptop.logoutOthers(), { revoked: 1 })
  assert.equal(await ended, { reason: 'revoked', code: 4501 })
  assert.is(phone.credentials, null)
  await sleep(10_000)
  assert.is(traffic.upgrades.length, 0, 'no upgrade attempt after 4501')
  assert.is(traffic.probes.length, 0, 'no probe either')
  assert.equal(states, ['open', 'ended'])
  assert.throws(() => phone.connect(), /needs credentials/)
  traffic.stop()
})

test('reconnect › an upgrade refused with 401 should end unauthorized on the refusal itself: one upgrade, no GET /session probe (Node)', async () => {
  const client = await signedIn()
  const stale = new ChatgateClient({ baseUrl: srv.url })
  stale.restore({ username: client.credentials!.username, token: 'not-a-token-of-this-server' })
  const traffic = countTraffic(srv.app.server)
  const conn = connectOf(stale)
  assert.equal(await nextEvent(conn, 'ended'), { reason: 'unauthorized', code: 1006 })
  assert.is(stale.credentials, null)
  await sleep(1500)
  assert.is(traffic.upgrades.length, 1, 'one upgrade')
  assert.is(traffic.probes.length, 0, 'Node reads the 401 from the refusal: no probe (a browser probes: test/browser)')
  traffic.stop()
})

test('reconnect › a silent server (socket open, nothing answered for two heartbeat periods) should be treated as 1006: a new socket and a fresh welcome', async () => {
  const quick = await startServer({ HEARTBEAT_MS: '200' })
  const proxy = await startFreezableProxy(quick.port)
  try {
    const direct = await signedIn(quick)
    const client = new ChatgateClient({ baseUrl: `http://127.0.0.1:${proxy.port}` })
    client.restore(direct.credentials!)
    const traffic = countTraffic(quick.app.server)
    const conn = connectOf(client)
    const welcome = await nextEvent(conn, 'welcome')
    assert.is(welcome.heartbeatMs, 200)
    await sleep(600) // pings answered by pongs keep it open past two periods
    assert.is(conn.state, 'open')
    const frozenAt = performance.now()
    proxy.freeze()
    await nextEvent(conn, 'state', 5_000)
    const gaveUpAfter = performance.now() - frozenAt
    assert.is(conn.state, 'reconnecting')
    // Silence is measured from the last frame heard, at most one period (one ping's pong) before the freeze.
    assert.ok(gaveUpAfter >= 200 - 20, `gave up after ${gaveUpAfter} ms of silence, before two periods`)
    const fresh = await nextEvent(conn, 'welcome')
    assert.is.not(fresh.connectionId, welcome.connectionId)
    assert.is(proxy.accepted, 2, 'one new socket')
    assert.is(traffic.probes.length, 0, 'an open socket gone silent is a network loss, not a refusal: no probe')
    traffic.stop()
    conn.close()
  } finally {
    await proxy.close()
    await quick.close()
  }
})

test('reconnect › a session that expires while connected should end with expired (4502) and drop the credentials', async () => {
  const short = await startServer({ SESSION_TTL_DAYS: String(2 / 86_400) }) // sessions live 2 s
  try {
    const client = await signedIn(short)
    const conn = connectOf(client)
    await nextEvent(conn, 'welcome')
    const traffic = countTraffic(short.app.server)
    assert.equal(await nextEvent(conn, 'ended', 8_000), { reason: 'expired', code: 4502 })
    assert.is(client.credentials, null)
    await sleep(1500)
    assert.is(traffic.upgrades.length, 0)
    traffic.stop()
  } finally {
    await short.close()
  }
})

test('reconnect › close() should end with closed (1000) and keep the credentials', async () => {
  const client = await signedIn()
  const conn = connectOf(client)
  await nextEvent(conn, 'welcome')
  assert.is(client.connect(), conn, 'one connection per client while it lives')
  const ended = nextEvent(conn, 'ended')
  conn.close()
  assert.equal(await ended, { reason: 'closed', code: 1000 })
  assert.is(conn.state, 'ended')
  assert.ok(client.credentials, 'closing keeps the credentials')
})

test.run()
