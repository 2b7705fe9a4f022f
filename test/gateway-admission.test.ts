import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { GatewayObserver } from '../src/gateway/observer.js'
import { login, registerUser } from './helpers/http.js'
import { startServer, type TestServer } from './helpers/server.js'
import { connect, connectOk, waitFor } from './helpers/ws.js'

const refusedWith = (res: { status: number; body: any }, status: number, code: string) => {
  assert.is(res.status, status, JSON.stringify(res.body))
  assert.is(res.body?.error_info?.error_code, code)
}

// ── Origin ──────────────────────────────────────────────────────────────────────────────────────
const origin = suite<{ same: TestServer; listed: TestServer; token: string; token2: string }>('origin')
origin.before(async (ctx) => {
  ctx.same = await startServer()
  ctx.listed = await startServer({ ALLOWED_ORIGINS: 'https://app.example, https://admin.example' })
  ctx.token = (await registerUser(ctx.same.url, 'olga')).token
  ctx.token2 = (await registerUser(ctx.listed.url, 'olga')).token
})
origin.after(async (ctx) => {
  await Promise.all([ctx.same.close(), ctx.listed.close()])
})

origin('gateway › should refuse a cross-site browser Origin with 403 when no allowlist is set', async (ctx) => {
  const res = await connect(ctx.same.url, { token: ctx.token, username: 'olga', headers: { Origin: 'https://evil.example' } })
  refusedWith(res, 403, 'ORIGIN_NOT_ALLOWED')
  refusedWith(await connect(ctx.same.url, { token: ctx.token, username: 'olga', headers: { Origin: 'null' } }), 403, 'ORIGIN_NOT_ALLOWED')
})

origin('gateway › should accept a same-origin browser and a client without Origin when no allowlist is set', async (ctx) => {
  const a = await connectOk(ctx.same.url, { token: ctx.token, username: 'olga', headers: { Origin: `http://127.0.0.1:${ctx.same.port}` } })
  await a.client.close()
  const b = await connectOk(ctx.same.url, { token: ctx.token, username: 'olga' })
  await b.client.close()
})

origin('gateway › should accept exactly the listed Origins when ALLOWED_ORIGINS is set', async (ctx) => {
  const ok = await connectOk(ctx.listed.url, { token: ctx.token2, username: 'olga', headers: { Origin: 'https://admin.example' } })
  await ok.client.close()
  const sameOrigin = `http://127.0.0.1:${ctx.listed.port}`
  refusedWith(await connect(ctx.listed.url, { token: ctx.token2, username: 'olga', headers: { Origin: sameOrigin } }), 403, 'ORIGIN_NOT_ALLOWED')
  refusedWith(
    await connect(ctx.listed.url, { token: ctx.token2, username: 'olga', headers: { Origin: 'https://app.example.evil' } }),
    403,
    'ORIGIN_NOT_ALLOWED',
  )
})

// ── connection caps ────────────────────────────────────────────────────────────────────────────
const caps = suite<{ srv: TestServer }>('caps')
caps.before(async (ctx) => {
  ctx.srv = await startServer({ MAX_CONNECTIONS_PER_USER: '2', MAX_CONNECTIONS_PER_IP: '3' })
})
caps.after(async (ctx) => {
  await ctx.srv.close()
})

caps('gateway › should refuse a user over MAX_CONNECTIONS_PER_USER with 429 and Retry-After', async ({ srv }) => {
  const s1 = await registerUser(srv.url, 'carl')
  const s2 = await login(srv.url, 'carl')
  const s3 = await login(srv.url, 'carl')
  const a = await connectOk(srv.url, { token: s1.token, username: 'carl' })
  const b = await connectOk(srv.url, { token: s2.token, username: 'carl' })
  const res = await connect(srv.url, { token: s3.token, username: 'carl' })
  refusedWith(res, 429, 'TOO_MANY_CONNECTIONS')
  assert.ok(Number(res.headers['retry-after']) > 0, 'Retry-After is set')
  // The same pair reconnecting replaces its own socket: that is not a new device and is not capped.
  const again = await connectOk(srv.url, { token: s2.token, username: 'carl' })
  assert.is((await b.client.waitClose()).code, 4500)
  // A freed slot is usable again.
  await a.client.close()
  await waitFor(() => srv.app.gateway.registry.countForUser(s1.userId) === 1, 5_000, 'the close to register')
  const c = await connectOk(srv.url, { token: s3.token, username: 'carl' })
  await Promise.all([again.client.close(), c.client.close()])
})

caps('gateway › should refuse an IP over MAX_CONNECTIONS_PER_IP with 429 and Retry-After', async ({ srv }) => {
  const users = await Promise.all(['ida', 'ivo', 'ina', 'ike'].map((u) => registerUser(srv.url, u)))
  const open = []
  for (const u of users.slice(0, 3)) open.push((await connectOk(srv.url, { token: u.token, username: u.username })).client)
  const res = await connect(srv.url, { token: users[3]!.token, username: 'ike' })
  refusedWith(res, 429, 'TOO_MANY_CONNECTIONS')
  assert.ok(Number(res.headers['retry-after']) > 0)
  await Promise.all(open.map((c) => c.close()))
})

// ── draining and the observer ──────────────────────────────────────────────────────────────────
const drain = suite<{ srv: TestServer; calls: string[] }>('drain')
drain.before(async (ctx) => {
  ctx.calls = []
  const observer: GatewayObserver = {
    handshake: (r, seconds) => ctx.calls.push(`handshake:${r}:${seconds >= 0 && seconds < 5 ? 'timed' : seconds}`),
    connectionOpened: () => ctx.calls.push('opened'),
    connectionClosed: (code) => ctx.calls.push(`closed:${code}`),
  }
  ctx.srv = await startServer({}, { deps: { gatewayObserver: observer } })
})
drain.after(async (ctx) => {
  await ctx.srv.close()
})

drain('gateway › should report handshakes (timed, ok once the welcome is sent), opens and closes to the observer', async ({ srv, calls }) => {
  const u = await registerUser(srv.url, 'otto')
  await connect(srv.url, { token: 'nope', username: 'otto' })
  const { client } = await connectOk(srv.url, { token: u.token, username: 'otto' })
  await client.close()
  await waitFor(() => calls.includes('closed:1000'), 5_000, 'the close to be observed')
  assert.equal(calls, ['handshake:UNAUTHORIZED:timed', 'opened', 'handshake:ok:timed', 'closed:1000'])
})

drain('gateway › should close live sockets with 1001 and refuse upgrades with 503 while draining', async ({ srv }) => {
  const u = await registerUser(srv.url, 'dora')
  const { client } = await connectOk(srv.url, { token: u.token, username: 'dora' })
  const drained = srv.app.gateway.drain()
  const closed = await client.waitClose()
  assert.is(closed.code, 1001)
  assert.is(closed.reason, 'GOING_AWAY')
  await drained
  refusedWith(await connect(srv.url, { token: u.token, username: 'dora' }), 503, 'SHUTTING_DOWN')
  assert.is(srv.app.gateway.registry.size, 0)
})

origin.run()
caps.run()
drain.run()
