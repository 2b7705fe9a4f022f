import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { LocalBus } from '../src/cluster/local-bus.js'
import { authHeaders, registerUser, request } from './helpers/http.js'
import { startServer, type TestServer } from './helpers/server.js'
import { connect, connectOk, waitFor } from './helpers/ws.js'

type Ctx = { srv: TestServer }
const policy = (name: 'replace' | 'reject' | 'revoke') => {
  const s = suite<Ctx>(`duplicate ${name}`)
  s.before(async (ctx) => {
    ctx.srv = await startServer({ DUPLICATE_POLICY: name })
  })
  s.after(async (ctx) => {
    await ctx.srv.close()
  })
  return s
}

const replace = policy('replace')
replace('gateway › should replace the older socket of a pair: revoked SESSION_REPLACED, 4500, nothing after', async ({ srv }) => {
  const u = await registerUser(srv.url, 'rita', 'password-123', 'phone')
  const old = await connectOk(srv.url, { token: u.token, username: 'rita' })
  const fresh = await connectOk(srv.url, { token: u.token, username: 'rita' })
  const closed = await old.client.waitClose()
  assert.equal(closed, { code: 4500, reason: 'SESSION_REPLACED' })
  assert.equal(
    old.client.messages.map((m) => m.type),
    ['welcome', 'revoked'],
    'the old socket gets exactly the welcome and then the revoked frame',
  )
  assert.equal(old.client.messages[1], { type: 'revoked', reason: 'SESSION_REPLACED' })
  assert.is(old.client.afterClose, 0)
  // The new socket is the live one: it answers, and its welcome counts the device once.
  await fresh.client.roundTrip()
  const me = fresh.welcome.devices.find((d: any) => d.session_id === u.sessionId)
  assert.is(me.online, true)
  assert.is(me.connections, 1)
  assert.equal(
    srv.app.gateway.registry.ofSession(u.sessionId).map((c) => c.id),
    [fresh.welcome.connection_id],
  )
  await fresh.client.close()
})

const reject = policy('reject')
reject('gateway › should refuse the second socket of a pair with 409 and leave the first untouched', async ({ srv }) => {
  const u = await registerUser(srv.url, 'remy')
  const first = await connectOk(srv.url, { token: u.token, username: 'remy' })
  const res = await connect(srv.url, { token: u.token, username: 'remy' })
  assert.is(res.status, 409)
  assert.is(res.body.error_info.error_code, 'SESSION_IN_USE')
  await first.client.roundTrip()
  assert.equal(
    first.client.messages.map((m) => m.type),
    ['welcome', 'pong'],
    'no revoked frame or anything else',
  )
  assert.is(first.client.closeInfo, null)
  // Once the first socket is gone the pair may connect again.
  await first.client.close()
  await waitFor(() => srv.app.gateway.registry.countForSession(u.sessionId) === 0, 2_000, 'the first socket to unregister')
  const again = await connectOk(srv.url, { token: u.token, username: 'remy' })
  await again.client.close()
})

reject('gateway › should admit a pair whose only row is its own socket closed moments ago, its removal still being written', async ({ srv }) => {
  const u = await registerUser(srv.url, 'rhea')
  const first = await connectOk(srv.url, { token: u.token, username: 'rhea' })
  await srv.app.gateway.flush()
  // Hold the write that removes the first socket's row: the store still counts it while the
  // next handshake reads the pair's connections.
  const store = srv.app.store
  const original = store.applyConnectionChanges
  let release!: () => void
  const held = new Promise<void>((r) => (release = r))
  let deletesHeld = 0
  store.applyConnectionChanges = async (opened, closed) => {
    if (closed.length > 0) {
      deletesHeld++
      await held
    }
    return original.call(store, opened, closed)
  }
  try {
    await first.client.close()
    await waitFor(() => deletesHeld === 1, 2_000, 'the row removal to be in flight')
    assert.is(srv.app.gateway.registry.countForSession(u.sessionId), 0)
    const counted = await store.countUserConnections(u.userId, 0)
    assert.is(counted.get(u.sessionId), 1, "the store still holds the closed socket's row")
    const pending = connect(srv.url, { token: u.token, username: 'rhea' })
    setTimeout(release, 50)
    const res = await pending
    assert.is(res.status, 101, 'the handshake waits for its own rows, then finds nobody holding the pair')
    await res.client?.close()
  } finally {
    store.applyConnectionChanges = original
    release()
  }
})

const revoke = policy('revoke')
revoke('gateway › should revoke a pair used twice: old socket 4501, new upgrade 401, token dead', async ({ srv }) => {
  const u = await registerUser(srv.url, 'rolf')
  const first = await connectOk(srv.url, { token: u.token, username: 'rolf' })
  const res = await connect(srv.url, { token: u.token, username: 'rolf' })
  assert.is(res.status, 401)
  assert.is(res.body.error_info.error_code, 'UNAUTHORIZED')
  assert.equal(await first.client.waitClose(), { code: 4501, reason: 'SESSION_REVOKED' })
  assert.equal(first.client.messages.at(-1), { type: 'revoked', reason: 'SESSION_REVOKED' })
  const me = await request(srv.url, 'GET', '/session', { headers: authHeaders(u.token, 'rolf') })
  assert.is(me.status, 401)
})

// ── two nodes on one database and one bus ──────────────────────────────────────────────────────
type Pair = { a: TestServer; b: TestServer; dir: string }
const twoNodes = (name: 'replace' | 'reject') => {
  const s = suite<Pair>(`two nodes, ${name}`)
  s.before(async (ctx) => {
    ctx.dir = mkdtempSync(join(tmpdir(), 'chatgate-2nodes-'))
    const bus = new LocalBus()
    ctx.a = await startServer({ DUPLICATE_POLICY: name }, { dir: ctx.dir, deps: { bus } })
    ctx.b = await startServer({ DUPLICATE_POLICY: name }, { dir: ctx.dir, deps: { bus } })
  })
  s.after(async (ctx) => {
    await ctx.a.close()
    await ctx.b.close()
    rmSync(ctx.dir, { recursive: true, force: true })
  })
  return s
}

const replaceAcross = twoNodes('replace')
replaceAcross('gateway › should replace a pair live on another node with 4500', async ({ a, b }) => {
  const u = await registerUser(a.url, 'nina')
  const old = await connectOk(a.url, { token: u.token, username: 'nina' })
  const fresh = await connectOk(b.url, { token: u.token, username: 'nina' })
  assert.equal(await old.client.waitClose(), { code: 4500, reason: 'SESSION_REPLACED' })
  assert.equal(old.client.messages.at(-1), { type: 'revoked', reason: 'SESSION_REPLACED' })
  await fresh.client.roundTrip()
  await fresh.client.close()
})

const rejectAcross = twoNodes('reject')
rejectAcross('gateway › should refuse with 409 a pair live on another node', async ({ a, b }) => {
  const u = await registerUser(a.url, 'nico')
  const first = await connectOk(a.url, { token: u.token, username: 'nico' })
  // The rule reads node A's connection row, written behind (within ~20 ms; documented).
  await a.app.gateway.flush()
  const res = await connect(b.url, { token: u.token, username: 'nico' })
  assert.is(res.status, 409)
  await first.client.roundTrip()
  await first.client.close()
})

replace.run()
reject.run()
revoke.run()
replaceAcross.run()
rejectAcross.run()
