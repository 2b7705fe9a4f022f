import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { LocalBus } from '../src/cluster/local-bus.js'
import { PUSH_ANSWER_WAIT_MS } from '../src/gateway/push-delivery.js'
import { addConnectionRow } from './helpers/connection-rows.js'
import { login, registerUser, request } from './helpers/http.js'
import { startServer, type TestServer } from './helpers/server.js'
import { connectOk, within, type TestClient } from './helpers/ws.js'

// Server push across nodes (src/gateway/push-delivery.ts); the push route itself on one node: operators-push.
const SERVICE_TOKEN = 'svc-token-0123456789-abcdefghijklmnop-xyz'
const service = { Authorization: `Bearer ${SERVICE_TOKEN}` }

const push = (srv: TestServer, username: string, body: unknown, headers: Record<string, string> = service) =>
  request(srv.url, 'POST', `/admin/users/${username}/events`, { body, headers })

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
  // A blocking check, not a figure: a push that waited would take the whole PUSH_ANSWER_WAIT_MS
  // (250 ms), over 10 × what one without a wait takes here.
  assert.ok(performance.now() - started < PUSH_ANSWER_WAIT_MS, 'no wait for nodes that hold nothing')
  await home.close()
})

across('should answer with what it has after the wait when a node holding sockets stays silent', async ({ a, b }) => {
  const u = await registerUser(a.url, 'ghosted')
  const onB = await socketOn(b, 'ghosted')
  // A live node in the table that is on no bus: it will never answer.
  await addConnectionRow(a.app.store, u.sessionId, { nodeId: 'silent-node' })
  const started = performance.now()
  // Generous (40 × the wait): fails only when the push never answers; how long it takes is bench/'s business.
  const res = await within(push(a, 'ghosted', { data: 'x' }), 10_000, 'the push to answer without the silent node')
  const took = performance.now() - started
  assert.equal(res.body.result, { delivered: 1 }, 'node B answered; the silent node adds nothing')
  assert.ok(took >= PUSH_ANSWER_WAIT_MS - 10, `waited for the silent node (${took} ms)`)
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

across.run()
