import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { listDevices, serviceHeaders, startCluster, type Cluster } from '../helpers/cluster.js'
import { authHeaders, login, registerUser, request } from '../helpers/http.js'
import type { NodeProcess } from '../helpers/node-process.js'
import { requirePostgres, requireRedis } from '../helpers/services.js'
import { waitFor } from '../helpers/wait-for.js'
import { connect, connectOk, type Frame, type TestClient } from '../helpers/ws.js'

await requirePostgres()
await requireRedis()

/**
 * Cross-node events travel over Redis pub/sub in milliseconds (the target is 100 ms); tests allow
 * a second, because up to six test runs share two cores. The database poll alone would also fit in
 * a second, so where the bus matters the fallback is tested on its own (scaleout-nodes-failures).
 */
const CROSS_NODE_MS = 1_000
/** Wrong passwords one account may try per minute, on all nodes together. */
const LOGIN_BUDGET = 3

type Ctx = { cluster: Cluster; a: NodeProcess; b: NodeProcess; c: NodeProcess }
const nodes = suite<Ctx>('nodes › three nodes as one gateway')

nodes.before(async (ctx) => {
  ctx.cluster = await startCluster({
    nodeIds: ['node-a', 'node-b', 'node-c'],
    env: { DUPLICATE_POLICY: 'replace', LOGIN_ATTEMPTS_PER_ACCOUNT_PER_MIN: String(LOGIN_BUDGET) },
  })
  const { 'node-a': a, 'node-b': b, 'node-c': c } = ctx.cluster.nodes
  Object.assign(ctx, { a, b, c })
})
nodes.after(async ({ cluster }) => {
  await cluster?.close()
})

/** A fresh session of `username` with an open socket on `node`; its row is listed before this returns. */
async function deviceOn(node: NodeProcess, username: string, deviceName: string) {
  const session = await login(node.url, username, 'password-123', deviceName)
  const { client, welcome } = await connectOk(node.url, { token: session.token, username })
  await waitFor(async () => (await listDevices(node, username)).some((d) => d.connection_id === welcome.connection_id), 5_000, 'the row')
  return { session, client, welcome }
}

/** Waits for the close and checks that `revoked` with the close's name was the last frame. */
async function expectRevoked(client: TestClient, code: number, reason: string, ms = CROSS_NODE_MS) {
  assert.equal(await client.waitClose(ms), { code, reason })
  assert.equal(client.messages.at(-1), { type: 'revoked', reason })
  assert.is(client.afterClose, 0, 'nothing arrives after the close')
}

nodes('should replace a pair live on node A with revoked + 4500 when it connects on node B', async ({ a, b }) => {
  const u = await registerUser(a.url, 'twin')
  const old = await connectOk(a.url, { token: u.token, username: 'twin' })
  const fresh = await connectOk(b.url, { token: u.token, username: 'twin' })
  await expectRevoked(old.client, 4500, 'SESSION_REPLACED')
  // The new socket is not touched: it still answers, and the pair is listed once, on node B.
  await fresh.client.roundTrip()
  assert.is(fresh.client.closeInfo, null)
  await waitFor(
    async () => {
      const listed = await listDevices(a, 'twin')
      return listed.length === 1 && listed[0]!.node_id === 'node-b'
    },
    5_000,
    'only the node-b socket to be listed',
  )
  await fresh.client.close()
})

nodes("should close a socket on node A when node B's admin API revokes its session", async ({ a, b }) => {
  await registerUser(a.url, 'revokee')
  const kept = await deviceOn(a, 'revokee', 'tablet')
  const doomed = await deviceOn(a, 'revokee', 'phone')
  const res = await request(b.url, 'DELETE', `/admin/sessions/${doomed.session.sessionId}`, { headers: serviceHeaders })
  assert.is(res.status, 200)
  await expectRevoked(doomed.client, 4501, 'SESSION_REVOKED')
  await kept.client.roundTrip()
  assert.is(kept.client.closeInfo, null, 'the other device stays')
  await kept.client.close()
})

nodes('should close the other devices on node A when the password is changed through node B', async ({ a, b, c }) => {
  await registerUser(a.url, 'rotator')
  const onA = await deviceOn(a, 'rotator', 'old-laptop')
  const onC = await deviceOn(c, 'rotator', 'changer')
  const res = await request(b.url, 'PUT', '/user/password', {
    body: { old_password: 'password-123', new_password: 'password-456' },
    headers: authHeaders(onC.session.token, 'rotator'),
  })
  assert.is(res.status, 200, JSON.stringify(res.body))
  await expectRevoked(onA.client, 4501, 'SESSION_REVOKED')
  await onC.client.roundTrip()
  assert.is(onC.client.closeInfo, null, 'the session that changed the password keeps its socket')
  await onC.client.close()
})

nodes("should close the user's sockets on every node when node B disables the account", async ({ a, b, c }) => {
  await registerUser(a.url, 'banned')
  const onA = await deviceOn(a, 'banned', 'one')
  const onC = await deviceOn(c, 'banned', 'two')
  const res = await request(b.url, 'POST', '/admin/users/banned/disable', { headers: serviceHeaders })
  assert.is(res.status, 200)
  assert.is(res.body.result.revoked, 3, 'the registration session and the two logins')
  await Promise.all([expectRevoked(onA.client, 4501, 'SESSION_REVOKED'), expectRevoked(onC.client, 4501, 'SESSION_REVOKED')])
  const again = await connect(c.url, { token: onC.session.token, username: 'banned' })
  assert.is(again.status, 401)
})

nodes('should list devices of every node in welcome and devices frames', async ({ a, b }) => {
  await registerUser(a.url, 'roamer')
  const onA = await deviceOn(a, 'roamer', 'desk')
  const onB = await deviceOn(b, 'roamer', 'pocket')
  const online = (devices: Frame['devices']) =>
    Object.fromEntries((devices as { device_name: string; connections: number }[]).map((d) => [d.device_name, d.connections]))
  assert.is(online(onB.welcome.devices).desk, 1, 'the welcome on node B counts the socket on node A')
  assert.is(online(onB.welcome.devices).pocket, 1)
  // Node A pushes a list in which node B's socket is online…
  const seenOnA = await waitFor(
    () => onA.client.messages.find((f) => f.type === 'devices' && online(f.devices).pocket === 1),
    CROSS_NODE_MS,
    'a devices frame on node A with the device on node B online',
  )
  assert.is(online(seenOnA.devices).desk, 1)
  // …and one in which it is offline once it closes there.
  await onB.client.close()
  await waitFor(
    () => onA.client.messages.some((f) => f.type === 'devices' && online(f.devices).pocket === 0),
    CROSS_NODE_MS,
    'a devices frame on node A with the device on node B offline',
  )
  await onA.client.close()
})

nodes('should push to devices on two nodes through a third and answer delivered: 2', async ({ a, b, c }) => {
  await registerUser(a.url, 'listener')
  await registerUser(a.url, 'bystander')
  const onA = await deviceOn(a, 'listener', 'a-side')
  const onB = await deviceOn(b, 'listener', 'b-side')
  const other = await deviceOn(b, 'bystander', 'near')
  for (const via of [c, a]) {
    const data = { text: 'hello', via: via.port }
    const res = await request(via.url, 'POST', '/admin/users/listener/events', { body: { data }, headers: serviceHeaders })
    assert.is(res.status, 200)
    assert.equal(res.body.result, { delivered: 2 })
    assert.equal(await onA.client.ignore('devices').next(), { type: 'event', data })
    assert.equal(await onB.client.ignore('devices').next(), { type: 'event', data })
  }
  await other.client.roundTrip()
  assert.not.ok(
    other.client.messages.some((f) => f.type === 'event'),
    'another user gets nothing',
  )
  for (const d of [onA, onB, other]) await d.client.close()
})

nodes('should share one login budget between nodes: 429 on node B once node A spent it', async ({ cluster, a, b, c }) => {
  await registerUser(a.url, 'guarded')
  await registerUser(a.url, 'unrelated')
  const attempt = (node: NodeProcess, username: string, password: string) => request(node.url, 'POST', '/session', { body: { username, password } })
  for (let i = 0; i < LOGIN_BUDGET; i++) {
    const res = await attempt(a, 'guarded', 'wrong-password')
    assert.is(res.status, 401, `attempt ${i + 1} on node A is judged, not limited`)
  }
  const onB = await attempt(b, 'guarded', 'wrong-password')
  assert.is(onB.status, 429, 'node B knows the budget is spent')
  assert.is(onB.body.error_info.error_code, 'RATE_LIMITED')
  assert.ok(Number(onB.headers.get('retry-after')) >= 1)
  assert.is((await attempt(c, 'guarded', 'password-123')).status, 429, 'not even the right password passes on node C')
  assert.is((await attempt(b, 'unrelated', 'password-123')).status, 200, 'another account is not limited')
  const keys = await cluster.redisKeys()
  assert.ok(keys.includes(`${cluster.redisPrefix}rl:login-account:user:guarded`), `the budget is in Redis: ${keys.join(', ')}`)
})

nodes.run()
