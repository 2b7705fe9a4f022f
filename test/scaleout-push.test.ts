import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { LocalBus } from '../src/cluster/local-bus.js'
import type { BusEvent } from '../src/cluster/bus.js'
import { PUSH_ANSWER_WAIT_MS } from '../src/gateway/push-delivery.js'
import type { EventDeliverer } from '../src/cluster/push.js'
import { addConnectionRow } from './helpers/connection-rows.js'
import { authHeaders, backofficeLogin, login, registerUser, request } from './helpers/http.js'
import { startServer, type TestServer } from './helpers/server.js'
import { connectOk, type TestClient } from './helpers/ws.js'

const SERVICE_TOKEN = 'svc-token-0123456789-abcdefghijklmnop-xyz'
const service = { Authorization: `Bearer ${SERVICE_TOKEN}` }

const push = (srv: TestServer, username: string, body: unknown, headers: Record<string, string> = service) =>
  request(srv.url, 'POST', `/admin/users/${username}/events`, { body, headers })

/** One server per suite (default bus-only deliverer), its bus events seen by the test, reset per test. */
let srv: TestServer
const events: BusEvent[] = []
const pushes = () => events.filter((e) => e.type === 'user_event')
let extra: TestServer[] = []

function shareServer(s: ReturnType<typeof suite>) {
  s.before(async () => {
    srv = await startServer({ CHATGATE_SERVICE_TOKEN: SERVICE_TOKEN })
    srv.app.bus.subscribe((e) => events.push(e))
  })
  s.before.each(() => {
    events.length = 0
  })
  s.after(async () => {
    await srv.close()
    for (const x of extra) await x.close()
    extra = []
  })
}

// ── delivery ───────────────────────────────────────────────────────────────────────────────────
const delivery = suite('push › delivery')
shareServer(delivery)

delivery('should publish a user_event for the user on the bus and answer with the delivered count', async () => {
  const alice = await registerUser(srv.url, 'push_alice')
  const data = { text: 'new message', from: 'bob', n: [1, 2, 3] }
  const res = await push(srv, 'push_alice', { data })
  assert.is(res.status, 200)
  assert.equal(res.body, { error: false, error_info: null, result: { delivered: 0 } })
  assert.is(pushes().length, 1)
  const event = pushes()[0] as Extract<BusEvent, { type: 'user_event' }>
  assert.is(event.userId, alice.userId)
  assert.equal(event.data, data)
  assert.match(event.id, /^[0-9a-f-]{36}$/)
})

delivery('should accept a backoffice session of an admin as well as the service token', async () => {
  await registerUser(srv.url, 'push_bo')
  const admin = await backofficeLogin(srv.url)
  const res = await push(srv, 'push_bo', { data: 'hello' }, authHeaders(admin.token, admin.username))
  assert.is(res.status, 200)
  assert.is(pushes().length, 1)
})

delivery('should pass any JSON value through, null included, and look the username up case-insensitively', async () => {
  await registerUser(srv.url, 'push_case')
  for (const data of [null, 0, false, 'x', [], { deep: { er: [{}] } }]) {
    const res = await push(srv, 'PUSH_Case', { data })
    assert.is(res.status, 200, `data ${JSON.stringify(data)}`)
  }
  assert.equal(
    pushes().map((e) => (e as { data: unknown }).data),
    [null, 0, false, 'x', [], { deep: { er: [{}] } }],
  )
})

delivery('should answer with the count a deliverer given in deps reports', async () => {
  const calls: [string, unknown][] = []
  const deliverer: EventDeliverer = {
    async deliver(userId, data) {
      calls.push([userId, data])
      return 3
    },
  }
  const own = await startServer({ CHATGATE_SERVICE_TOKEN: SERVICE_TOKEN }, { deps: { deliverer } })
  extra.push(own)
  const carol = await registerUser(own.url, 'push_carol')
  const res = await push(own, 'push_carol', { data: { a: 1 } })
  assert.is(res.status, 200)
  assert.equal(res.body.result, { delivered: 3 })
  assert.equal(calls, [[carol.userId, { a: 1 }]])
})

delivery('should never write the pushed data into the log', async () => {
  await registerUser(srv.url, 'push_quiet')
  const secret = 'backend-secret-payload-7f3a9c'
  assert.is((await push(srv, 'push_quiet', { data: { secret } })).status, 200)
  assert.ok(
    srv.logs.some((l) => l.includes('"event":"push"')),
    'the push itself is logged',
  )
  assert.not.ok(
    srv.logs.some((l) => l.includes(secret)),
    'the payload must not be',
  )
})

// ── refusals ───────────────────────────────────────────────────────────────────────────────────
const refusals = suite('push › refusals')
shareServer(refusals)

refusals('should refuse callers that are not operators and publish nothing', async () => {
  const user = await registerUser(srv.url, 'push_plain')
  const cases: [Record<string, string>, number, string][] = [
    [{}, 401, 'UNAUTHORIZED'],
    [{ Authorization: 'Bearer wrong-token-wrong-token-wrong-token-xx' }, 401, 'UNAUTHORIZED'],
    [{ Authorization: `Basic ${SERVICE_TOKEN}` }, 401, 'UNAUTHORIZED'],
    [authHeaders(user.token, user.username), 403, 'FORBIDDEN'],
    [authHeaders('not-a-token', 'push_plain'), 401, 'UNAUTHORIZED'],
  ]
  for (const [headers, status, code] of cases) {
    const res = await push(srv, 'push_plain', { data: 1 }, headers)
    assert.is(res.status, status, JSON.stringify(headers))
    assert.is(res.body.error_info.error_code, code)
  }
  assert.is(pushes().length, 0)
})

refusals('should refuse the service token when none is configured', async () => {
  const own = await startServer()
  extra.push(own)
  await registerUser(own.url, 'push_nosvc')
  const res = await push(own, 'push_nosvc', { data: 1 })
  assert.is(res.status, 401)
})

refusals('should answer 404 NOT_FOUND for an unknown or impossible username', async () => {
  for (const name of ['nobody_here', 'a'.repeat(100), '_x', '%C3%A9t%C3%A9']) {
    const res = await push(srv, name, { data: 1 })
    assert.is(res.status, 404, name)
    assert.equal(res.body, { error: true, error_info: { error_code: 'NOT_FOUND', description: 'No such user.' }, result: null })
  }
  assert.is(pushes().length, 0)
})

refusals('should refuse a body without data, not JSON, malformed, or over 16 KiB', async () => {
  await registerUser(srv.url, 'push_body')
  const url = '/admin/users/push_body/events'
  const missing = await push(srv, 'push_body', { other: 1 })
  assert.is(missing.status, 400)
  assert.is(missing.body.error_info.error_code, 'BAD_REQUEST')
  const text = await request(srv.url, 'POST', url, { raw: 'data', headers: { ...service, 'content-type': 'text/plain' } })
  assert.is(text.status, 415)
  const broken = await request(srv.url, 'POST', url, { raw: '{"data":', headers: { ...service, 'content-type': 'application/json' } })
  assert.is(broken.status, 400)
  const big = await push(srv, 'push_body', { data: 'x'.repeat(16 * 1024) })
  assert.is(big.status, 413)
  assert.is(big.body.error_info.error_code, 'PAYLOAD_TOO_LARGE')
  const fits = await push(srv, 'push_body', { data: 'x'.repeat(16 * 1024 - 20) })
  assert.is(fits.status, 200, 'a body just under 16 KiB is accepted')
  assert.is(pushes().length, 1)
})

refusals('should answer 405 with Allow for another method on the route', async () => {
  const res = await request(srv.url, 'GET', '/admin/users/someone/events', { headers: service })
  assert.is(res.status, 405)
  assert.is(res.headers.get('allow'), 'POST')
})

// ── across nodes: three apps on one database and one (in-process) bus ─────────────────────────────
type Nodes = { a: TestServer; b: TestServer; c: TestServer; dir: string; bus: LocalBus }
const across = suite<Nodes>('push › across nodes')
across.before(async (ctx) => {
  ctx.dir = mkdtempSync(join(tmpdir(), 'chatgate-push-nodes-'))
  ctx.bus = new LocalBus()
  const start = () => startServer({ CHATGATE_SERVICE_TOKEN: SERVICE_TOKEN }, { dir: ctx.dir, deps: { bus: ctx.bus } })
  ctx.a = await start()
  ctx.b = await start()
  ctx.c = await start()
})
across.after(async (ctx) => {
  for (const n of [ctx.a, ctx.b, ctx.c]) await n.close()
  rmSync(ctx.dir, { recursive: true, force: true })
})

/** A socket of a fresh session of `username` on `node`, its row in the store. */
async function socketOn(node: TestServer, username: string): Promise<TestClient> {
  const s = await login(node.url, username)
  const { client } = await connectOk(node.url, { token: s.token, username })
  await node.app.gateway.settle()
  return client.ignore('devices')
}

across("should reach the user's sockets on every node and count them, from any node", async ({ a, b, c }) => {
  await registerUser(a.url, 'spread')
  await registerUser(a.url, 'bystander')
  const onA = await socketOn(a, 'spread')
  const onB = await socketOn(b, 'spread')
  const other = await socketOn(a, 'bystander')
  for (const [from, n] of [
    [c, 1],
    [a, 2],
    [b, 3],
  ] as const) {
    const res = await push(from, 'spread', { data: { n } })
    assert.equal(res.body.result, { delivered: 2 }, `a push through node ${n}`)
    assert.equal(await onA.next(), { type: 'event', data: { n } })
    assert.equal(await onB.next(), { type: 'event', data: { n } })
  }
  await other.roundTrip()
  assert.not.ok(
    other.messages.some((f) => f.type === 'event'),
    "another user's socket gets nothing",
  )
  assert.is([...onA.unread(), ...onB.unread()].filter((f) => f.type === 'event').length, 0, 'each socket got each push once')
  for (const s of [onA, onB, other]) await s.close()
})

across("should not wait for answers when no other node holds the user's sockets", async ({ a }) => {
  await registerUser(a.url, 'homebody')
  const home = await socketOn(a, 'homebody')
  const started = performance.now()
  assert.equal((await push(a, 'homebody', { data: 1 })).body.result, { delivered: 1 })
  assert.ok(performance.now() - started < PUSH_ANSWER_WAIT_MS, 'no wait for nodes that hold nothing')
  await home.close()
})

across('should answer with what it has after the wait when a node holding sockets stays silent', async ({ a, b }) => {
  const u = await registerUser(a.url, 'ghosted')
  const onB = await socketOn(b, 'ghosted')
  // A live node in the table that is on no bus: it will never answer.
  await addConnectionRow(a.app.store, u.sessionId, { nodeId: 'silent-node' })
  const started = performance.now()
  const res = await push(a, 'ghosted', { data: 'x' })
  const took = performance.now() - started
  assert.equal(res.body.result, { delivered: 1 }, 'node B answered; the silent node adds nothing')
  assert.ok(took >= PUSH_ANSWER_WAIT_MS - 10, `waited for the silent node (${took} ms)`)
  assert.ok(took < PUSH_ANSWER_WAIT_MS + 2_000, `but not much longer (${took} ms)`)
  assert.equal(await onB.next(), { type: 'event', data: 'x' })
  await onB.close()
})

across('should count one answer per node, whatever arrives twice or for another push', async ({ a, bus }) => {
  const u = await registerUser(a.url, 'echoed')
  await addConnectionRow(a.app.store, u.sessionId, { nodeId: 'echo-node' })
  // A node that answers every push twice, and once more for a push id that does not exist.
  const off = bus.subscribe((e) => {
    if (e.type !== 'user_event' || !e.answerFrom.includes('echo-node')) return
    for (const id of [e.id, e.id, 'no-such-push']) void bus.publish({ type: 'user_event_delivered', id, nodeId: 'echo-node', delivered: 3 })
  })
  try {
    assert.equal((await push(a, 'echoed', { data: 1 })).body.result, { delivered: 3 })
  } finally {
    off()
  }
})

delivery.run()
refusals.run()
across.run()
