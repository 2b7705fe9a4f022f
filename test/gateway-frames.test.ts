import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { login, registerUser } from './helpers/http.js'
import { startServer, type TestServer } from './helpers/server.js'
import { connectOk, waitFor } from './helpers/ws.js'

const VIEW_KEYS = ['connections', 'created_at', 'device_name', 'expires_at', 'ip', 'last_seen_at', 'online', 'session_id', 'user_agent']

// ── welcome and devices ────────────────────────────────────────────────────────────────────────
const devices = suite<{ srv: TestServer }>('devices')
devices.before(async (ctx) => {
  ctx.srv = await startServer()
})
devices.after(async (ctx) => {
  await ctx.srv.close()
})

devices('gateway › should list the user’s devices in the welcome, with this one online', async ({ srv }) => {
  const phone = await registerUser(srv.url, 'willa', 'password-123', 'phone')
  const laptop = await login(srv.url, 'willa', 'password-123', 'laptop')
  const { client, welcome } = await connectOk(srv.url, { token: phone.token, username: 'willa' })
  assert.is(welcome.devices.length, 2)
  const [mine, other] = [phone.sessionId, laptop.sessionId].map((id) => welcome.devices.find((d: any) => d.session_id === id))
  assert.equal(Object.keys(mine).sort(), VIEW_KEYS, 'a session view, no token or hash')
  assert.is(mine.device_name, 'phone')
  assert.is(mine.online, true)
  assert.is(mine.connections, 1)
  assert.is(other.online, false)
  assert.is(other.connections, 0)
  assert.not.ok(JSON.stringify(welcome).includes(phone.token))
  await client.close()
})

devices('gateway › should push devices to the user’s other sockets when a device comes online and goes offline', async ({ srv }) => {
  const a = await registerUser(srv.url, 'xena', 'password-123', 'a')
  const b = await login(srv.url, 'xena', 'password-123', 'b')
  const sa = await connectOk(srv.url, { token: a.token, username: 'xena' })
  await srv.app.gateway.settle()
  const sb = await connectOk(srv.url, { token: b.token, username: 'xena' })
  const online = await sa.client.nextOfType('devices')
  assert.equal(
    online.devices.find((d: any) => d.session_id === b.sessionId),
    { ...online.devices.find((d: any) => d.session_id === b.sessionId), online: true, connections: 1 },
  )
  await srv.app.gateway.settle()
  // The new socket learned the list from its welcome: no devices frame for its own arrival.
  await sb.client.roundTrip()
  assert.equal(
    sb.client.messages.map((m) => m.type),
    ['welcome', 'pong'],
  )
  await sb.client.close()
  const offline = await sa.client.nextOfType('devices')
  const bView = offline.devices.find((d: any) => d.session_id === b.sessionId)
  assert.is(bView.online, false)
  assert.is(bView.connections, 0)
  await sa.client.close()
})

devices('gateway › should coalesce a burst of changes into few devices frames', async ({ srv }) => {
  const main = await registerUser(srv.url, 'yuri', 'password-123', 'main')
  const extra = await Promise.all(Array.from({ length: 8 }, (_, i) => login(srv.url, 'yuri', 'password-123', `d${i}`)))
  const m = await connectOk(srv.url, { token: main.token, username: 'yuri' })
  await srv.app.gateway.settle()
  const burst = await Promise.all(extra.map((s) => connectOk(srv.url, { token: s.token, username: 'yuri' })))
  await srv.app.gateway.settle()
  await m.client.roundTrip()
  const frames = m.client.messages.filter((f) => f.type === 'devices')
  assert.ok(frames.length >= 1 && frames.length < 8, `${frames.length} devices frames for 8 arrivals`)
  assert.is(frames.at(-1)!.devices.filter((d: any) => d.online).length, 9)
  await Promise.all([m, ...burst].map((s) => s.client.close()))
})

devices('gateway › should deliver backend events to every live socket of the user', async ({ srv }) => {
  const a = await registerUser(srv.url, 'zack', 'password-123', 'a')
  const b = await login(srv.url, 'zack', 'password-123', 'b')
  const sa = await connectOk(srv.url, { token: a.token, username: 'zack' })
  const sb = await connectOk(srv.url, { token: b.token, username: 'zack' })
  assert.is(srv.app.gateway.deliverLocal(a.userId, { n: 1, text: 'hi' }), 2)
  assert.equal(await sa.client.nextOfType('event'), { type: 'event', data: { n: 1, text: 'hi' } })
  assert.equal(await sb.client.nextOfType('event'), { type: 'event', data: { n: 1, text: 'hi' } })
  assert.is(srv.app.gateway.deliverLocal('00000000-0000-4000-8000-000000000000', {}), 0)
  await Promise.all([sa.client.close(), sb.client.close()])
})

// ── client frames and limits ───────────────────────────────────────────────────────────────────
// These sockets all belong to one user: each may see `devices` frames about the previous ones.
const frames = suite<{ srv: TestServer; token: string }>('client frames')
frames.before(async (ctx) => {
  ctx.srv = await startServer({ WS_MESSAGES_PER_10S: '20' })
  ctx.token = (await registerUser(ctx.srv.url, 'fred')).token
})
frames.after(async (ctx) => {
  await ctx.srv.close()
})

frames('gateway › should answer ping with pong and an unknown type with UNKNOWN_TYPE, staying open', async ({ srv, token }) => {
  const client = (await connectOk(srv.url, { token, username: 'fred' })).client.ignore('devices')
  client.send({ type: 'ping' })
  assert.equal(await client.next(), { type: 'pong' })
  client.send({ type: 'dance' })
  assert.equal(await client.next(), { type: 'error', error_code: 'UNKNOWN_TYPE' })
  client.send({ type: 'ping' })
  assert.equal(await client.next(), { type: 'pong' })
  assert.is(client.closeInfo, null)
  await client.close()
})

frames('gateway › should answer frames that are not a JSON object with a type with BAD_REQUEST, staying open', async ({ srv, token }) => {
  const client = (await connectOk(srv.url, { token, username: 'fred' })).client.ignore('devices')
  for (const bad of ['not json', '[1,2]', '{"type":5}', 'null', '{"kind":"ping"}']) {
    client.send(bad)
    assert.equal(await client.next(), { type: 'error', error_code: 'BAD_REQUEST' }, bad)
  }
  client.ws.send(Buffer.from('{"type":"ping"}'), { binary: true })
  assert.equal(await client.next(), { type: 'error', error_code: 'BAD_REQUEST' }, 'binary frames')
  await client.roundTrip()
  await client.close()
})

frames('gateway › should accept a 64 KiB message and close with 1009 above it', async ({ srv, token }) => {
  const client = (await connectOk(srv.url, { token, username: 'fred' })).client.ignore('devices')
  const head = '{"type":"ping","pad":"'
  const exact = `${head}${'x'.repeat(64 * 1024 - head.length - 2)}"}`
  assert.is(Buffer.byteLength(exact), 64 * 1024)
  client.send(exact)
  assert.equal(await client.next(), { type: 'pong' })
  client.send(exact.replace('"pad":"', '"pad":"x'))
  assert.is((await client.waitClose()).code, 1009)
})

frames('gateway › should close with 1008 past the per-connection message rate, after exactly the allowed answers', async ({ srv, token }) => {
  const client = (await connectOk(srv.url, { token, username: 'fred' })).client.ignore('devices')
  for (let i = 0; i < 25; i++) client.send({ type: 'ping' })
  const closed = await client.waitClose()
  assert.is(closed.code, 1008)
  assert.is(closed.reason, 'POLICY_VIOLATION')
  assert.is(client.messages.filter((m) => m.type === 'pong').length, 20)
})

frames('gateway › should close with 1008 a message split into too many fragments', async ({ srv, token }) => {
  const client = (await connectOk(srv.url, { token, username: 'fred' })).client.ignore('devices')
  for (let i = 0; i < 200; i++) client.ws.send('x', { fin: false })
  client.ws.send('x', { fin: true })
  assert.is((await client.waitClose()).code, 1008)
})

frames('gateway › should close with 1007 on invalid UTF-8', async ({ srv, token }) => {
  const client = (await connectOk(srv.url, { token, username: 'fred' })).client.ignore('devices')
  client.ws.send(Buffer.from([0x7b, 0xc3, 0x28, 0x7d]), { binary: false })
  assert.is((await client.waitClose()).code, 1007)
  await waitFor(() => srv.app.gateway.registry.size === 0, 5_000, 'the connection to unregister')
})

// ── slow consumers ─────────────────────────────────────────────────────────────────────────────
const slow = suite<{ srv: TestServer }>('slow consumer')
slow.before(async (ctx) => {
  ctx.srv = await startServer({ WS_MAX_BUFFERED_BYTES: String(256 * 1024) })
})
slow.after(async (ctx) => {
  await ctx.srv.close()
})

slow('gateway › should terminate a socket that stops reading instead of buffering without bound', async ({ srv }) => {
  const u = await registerUser(srv.url, 'sloane', 'password-123', 'slow')
  const fast = await login(srv.url, 'sloane', 'password-123', 'fast')
  const s = await connectOk(srv.url, { token: u.token, username: 'sloane' })
  const f = await connectOk(srv.url, { token: fast.token, username: 'sloane' })
  const registered = (id: string) => [...srv.app.gateway.registry.values()].find((c) => c.id === id)
  const conn = registered(s.welcome.connection_id)!
  ;(s.client.ws as any)._socket.pause() // the peer stops reading
  const chunk = 'y'.repeat(32 * 1024)
  let rounds = 0
  // Bounded: 4000 × 32 KiB is far more than any loopback socket buffers before backpressure.
  while (registered(conn.id) && rounds < 4000) {
    srv.app.gateway.deliverLocal(u.userId, chunk)
    rounds++
    await new Promise((r) => setImmediate(r)) // the reading socket keeps up; the paused one cannot
  }
  assert.not.ok(registered(conn.id), `still registered after ${rounds} rounds`)
  assert.ok(conn.ws.bufferedAmount < 64 * 1024 * 1024, 'memory stayed bounded')
  assert.ok(
    srv.logs.some((l) => l.includes('"slow_consumer"')),
    'the close is logged with its cause',
  )
  // The reading socket of the same user was not affected.
  await f.client.roundTrip(5_000)
  assert.is(f.client.closeInfo, null)
  ;(s.client.ws as any)._socket.resume()
  assert.is((await s.client.waitClose(5_000)).code, 1006)
  await f.client.close()
})

devices.run()
frames.run()
slow.run()
