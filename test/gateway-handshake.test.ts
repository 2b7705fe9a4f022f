import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { authHeaders, backofficeLogin, login, registerUser, request } from './helpers/http.js'
import { writeDirectly } from './helpers/write-directly.js'
import { startServer, type TestServer } from './helpers/server.js'
import { connect, connectOk, rawUpgrade } from './helpers/ws.js'

let srv: TestServer
let alice: Awaited<ReturnType<typeof registerUser>>
let bob: Awaited<ReturnType<typeof registerUser>>

test.before(async () => {
  srv = await startServer()
  alice = await registerUser(srv.url, 'alice', 'password-123', 'phone')
  bob = await registerUser(srv.url, 'bob')
})
test.after(async () => {
  await srv.close()
})

/** Asserts a refusal: status, the nullptr envelope with the code, JSON, connection closed. */
function assertRefused(res: { status: number; headers: Record<string, unknown>; body: any }, status: number, code: string) {
  assert.is(res.status, status, JSON.stringify(res.body))
  assert.equal(res.body?.error, true)
  assert.is(res.body?.error_info?.error_code, code)
  assert.is(res.body?.result, null)
  assert.match(String(res.headers['content-type']), /^application\/json/)
  assert.is(res.headers.connection, 'close')
}

test('gateway › should accept Token and Username headers and send welcome as the first frame', async () => {
  const { client, welcome } = await connectOk(srv.url, { token: alice.token, username: 'ALICE' })
  assert.is(welcome.session_id, alice.sessionId)
  assert.is(welcome.user_id, alice.userId)
  assert.is(welcome.username, 'alice')
  assert.is(welcome.heartbeat_ms, srv.config.heartbeatMs)
  assert.match(welcome.connection_id, /^[A-Za-z0-9_-]{16}$/)
  assert.is(client.messages[0], welcome)
  await client.close()
})

test('gateway › should accept the subprotocol form, select chatgate.v1 and echo no credential', async () => {
  const up = await connect(srv.url, { protocols: ['chatgate.v1', `token.${alice.token}`, `username.${alice.username}`] })
  assert.is(up.status, 101)
  assert.is(up.headers['sec-websocket-protocol'], 'chatgate.v1')
  assert.is(up.client!.ws.protocol, 'chatgate.v1')
  assert.not.ok(JSON.stringify(up.headers).includes(alice.token), 'the token must not come back in any header')
  const welcome = await up.client!.next()
  assert.is(welcome.type, 'welcome')
  assert.is(welcome.session_id, alice.sessionId)
  await up.client!.close()
})

test('gateway › should refuse a missing credential with 401', async () => {
  assertRefused(await connect(srv.url), 401, 'UNAUTHORIZED')
  assertRefused(await connect(srv.url, { token: alice.token }), 401, 'UNAUTHORIZED')
  assertRefused(await connect(srv.url, { protocols: ['chatgate.v1', `token.${alice.token}`] }), 401, 'UNAUTHORIZED')
})

test('gateway › should refuse an unknown token with 401', async () => {
  assertRefused(await connect(srv.url, { token: 'x'.repeat(43), username: 'alice' }), 401, 'UNAUTHORIZED')
})

test("gateway › should refuse A's token with B's username with 401", async () => {
  assertRefused(await connect(srv.url, { token: alice.token, username: bob.username }), 401, 'UNAUTHORIZED')
  assertRefused(await connect(srv.url, { protocols: ['chatgate.v1', `token.${alice.token}`, `username.${bob.username}`] }), 401, 'UNAUTHORIZED')
})

test('gateway › should refuse a revoked session with 401', async () => {
  const s = await login(srv.url, 'alice', 'password-123', 'old laptop')
  const out = await request(srv.url, 'DELETE', '/session', { headers: authHeaders(s.token, 'alice') })
  assert.is(out.status, 200)
  assertRefused(await connect(srv.url, { token: s.token, username: 'alice' }), 401, 'UNAUTHORIZED')
})

test('gateway › should refuse an expired session with 401', async () => {
  const s = await login(srv.url, 'alice', 'password-123', 'tablet')
  await writeDirectly(srv.databaseUrl, 'UPDATE sessions SET expires_at = ? WHERE id = ?', [Date.now() - 1_000, s.sessionId])
  assertRefused(await connect(srv.url, { token: s.token, username: 'alice' }), 401, 'UNAUTHORIZED')
})

test('gateway › should refuse a backoffice session with 401', async () => {
  const admin = await backofficeLogin(srv.url)
  assertRefused(await connect(srv.url, { token: admin.token, username: 'admin' }), 401, 'UNAUTHORIZED')
})

test('gateway › should refuse credentials given both ways with 400', async () => {
  const res = await connect(srv.url, {
    token: alice.token,
    username: 'alice',
    protocols: ['chatgate.v1', `token.${alice.token}`, `username.alice`],
  })
  assertRefused(res, 400, 'BAD_REQUEST')
})

test('gateway › should refuse a credential given twice with 400', async () => {
  assertRefused(await rawUpgrade(srv.url, { Token: [alice.token, alice.token], Username: 'alice' }), 400, 'BAD_REQUEST')
  assertRefused(
    await rawUpgrade(srv.url, { 'Sec-WebSocket-Protocol': `chatgate.v1, token.${alice.token}, token.${bob.token}, username.alice` }),
    400,
    'BAD_REQUEST',
  )
  assertRefused(await rawUpgrade(srv.url, { 'Sec-WebSocket-Protocol': `chatgate.v1, token.${alice.token}, username.alice, username.bob` }), 400, 'BAD_REQUEST')
})

test('gateway › should refuse an over-long credential header with 400', async () => {
  assertRefused(await connect(srv.url, { token: 'a'.repeat(300), username: 'alice' }), 400, 'BAD_REQUEST')
  assertRefused(await connect(srv.url, { protocols: ['chatgate.v1', `token.${'a'.repeat(1100)}`, 'username.alice'] }), 400, 'BAD_REQUEST')
})

test('gateway › should refuse subprotocol credentials without chatgate.v1 with 400', async () => {
  assertRefused(await connect(srv.url, { protocols: [`token.${alice.token}`, 'username.alice'] }), 400, 'BAD_REQUEST')
})

test('gateway › should refuse a request that is not a valid upgrade with 400', async () => {
  assertRefused(await rawUpgrade(srv.url, { 'Sec-WebSocket-Key': 'short', ...authHeaders(alice.token, 'alice') }), 400, 'BAD_REQUEST')
  assertRefused(await rawUpgrade(srv.url, { 'Sec-WebSocket-Version': '7', ...authHeaders(alice.token, 'alice') }), 400, 'BAD_REQUEST')
  assertRefused(await rawUpgrade(srv.url, { Upgrade: 'h2c', ...authHeaders(alice.token, 'alice') }), 400, 'BAD_REQUEST')
  assertRefused(await rawUpgrade(srv.url, authHeaders(alice.token, 'alice'), '/ws', 'POST'), 400, 'BAD_REQUEST')
})

test('gateway › should refuse a token in the URL with 400 without reading it', async () => {
  const res = await connect(srv.url, { path: `/ws?token=${alice.token}&username=alice` })
  assertRefused(res, 400, 'BAD_REQUEST')
})

test('gateway › should answer upgrades on other paths with 404', async () => {
  assertRefused(await connect(srv.url, { path: '/socket', token: alice.token, username: 'alice' }), 404, 'NOT_FOUND')
})

test('gateway › should fail closed with 500 when the session lookup throws, never upgrading', async () => {
  const store = srv.app.store
  const original = store.findSessionWithDevices
  store.findSessionWithDevices = async () => {
    throw new Error('disk I/O error')
  }
  try {
    const before = srv.app.gateway.registry.size
    assertRefused(await connect(srv.url, { token: alice.token, username: 'alice' }), 500, 'INTERNAL_ERROR')
    assert.is(srv.app.gateway.registry.size, before)
    assert.ok(srv.logs.some((l) => l.includes('"ws_handshake_failed"') && l.includes('disk I/O error')))
  } finally {
    store.findSessionWithDevices = original
  }
  const ok = await connectOk(srv.url, { token: alice.token, username: 'alice' })
  await ok.client.close()
})

test('gateway › should log refusals without the token', async () => {
  const marker = `token.${bob.token}`
  await connect(srv.url, { protocols: ['chatgate.v1', marker, 'username.alice'] })
  const refusals = srv.logs.filter((l) => l.includes('"ws_refused"'))
  assert.ok(refusals.length > 0)
  assert.not.ok(
    srv.logs.some((l) => l.includes(bob.token) || l.includes(alice.token)),
    'no log line may hold a token',
  )
})

test.run()
