import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { listDevices, serviceHeaders, startCluster, type Cluster } from '../helpers/cluster.js'
import { runCli } from '../helpers/cli.js'
import { login, registerUser, request } from '../helpers/http.js'
import type { NodeProcess } from '../helpers/node-process.js'
import { pgAdmin, requirePostgres, requireRedis, TEST_REDIS_URL } from '../helpers/services.js'
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js'
import { waitFor, within } from '../helpers/wait-for.js'
import { connectOk } from '../helpers/ws.js'

await requirePostgres()
await requireRedis()

/** A short node heartbeat: dead after 3 s, purged after 4 s (the defaults are 15 s and 20 s). */
const NODE_HEARTBEAT_MS = 1_000
/** Revocations with Redis away travel through the database poll (250 ms); a second is the target. */
const DB_FALLBACK_MS = 3_000

type Ctx = { cluster: Cluster; proxy: TcpProxy; a: NodeProcess; b: NodeProcess }
const failures = suite<Ctx>('nodes › when Redis or a node goes away')

failures.before(async (ctx) => {
  const target = new URL(TEST_REDIS_URL)
  // Every node reaches Redis through this proxy, so the test can take Redis away from them only.
  ctx.proxy = await startTcpProxy(target.hostname, Number(target.port || 6379))
  ctx.cluster = await startCluster({
    nodeIds: ['node-a', 'node-b'],
    env: { REDIS_URL: `redis://127.0.0.1:${ctx.proxy.port}`, NODE_HEARTBEAT_MS: String(NODE_HEARTBEAT_MS) },
  })
  Object.assign(ctx, { a: ctx.cluster.nodes['node-a'], b: ctx.cluster.nodes['node-b'] })
})
/** True while the test holds Redis away; a failed test must not leave it away for the next one. */
let redisAway = false
async function takeRedisAway(proxy: TcpProxy): Promise<void> {
  redisAway = true
  await proxy.stop()
}
async function bringRedisBack(proxy: TcpProxy): Promise<void> {
  if (!redisAway) return
  await proxy.start()
  redisAway = false
}
failures.after.each(async ({ proxy }) => {
  await bringRedisBack(proxy)
})
failures.after(async ({ cluster, proxy }) => {
  await cluster?.close()
  await proxy?.stop()
})

const push = (node: NodeProcess, username: string, data: unknown) =>
  request(node.url, 'POST', `/admin/users/${username}/events`, { body: { data }, headers: serviceHeaders })

failures('should keep both nodes serving through a Redis outage, revoke through the database, and flow again after', async ({ proxy, a, b }) => {
  await registerUser(a.url, 'weather')
  const kept = await login(a.url, 'weather', 'password-123', 'kept')
  const doomed = await login(a.url, 'weather', 'password-123', 'doomed')
  const keptSocket = (await connectOk(a.url, { token: kept.token, username: 'weather' })).client.ignore('devices')
  const doomedSocket = (await connectOk(a.url, { token: doomed.token, username: 'weather' })).client
  await waitFor(async () => (await listDevices(b, 'weather')).length === 2, 5_000, 'both rows')

  await takeRedisAway(proxy)
  for (const node of [a, b]) {
    await node.waitForLog((l) => l.msg === 'redis connection lost; reconnecting with backoff', 10_000, 'the node to notice the outage')
  }

  // A revocation through node B still closes the socket on node A: the database poll finds it.
  const revoked = await request(b.url, 'DELETE', `/admin/sessions/${doomed.sessionId}`, { headers: serviceHeaders })
  assert.is(revoked.status, 200)
  assert.equal(await doomedSocket.waitClose(DB_FALLBACK_MS), { code: 4501, reason: 'SESSION_REVOKED' })

  // Logins are still judged (rate limits count in memory meanwhile), promptly.
  const started = performance.now()
  const wrong = await request(b.url, 'POST', '/session', { body: { username: 'weather', password: 'not-the-password' } })
  assert.is(wrong.status, 401)
  assert.ok(performance.now() - started < 2_000, 'a login does not wait for Redis')
  assert.is((await request(b.url, 'POST', '/session', { body: { username: 'weather', password: 'password-123' } })).status, 200)
  assert.is((await request(a.url, 'POST', '/user/register', { body: { username: 'newcomer', password: 'password-123' } })).status, 201)

  // A push is answered (it reaches what it can: nothing on this node); it is not replayed later.
  const during = await push(b, 'weather', 'during')
  assert.is(during.status, 200)
  assert.equal(during.body.result, { delivered: 0 })
  for (const node of [a, b]) {
    assert.is((await request(node.url, 'GET', '/healthz')).status, 200)
    assert.is(node.proc.exitCode, null, 'the node must still run')
  }

  // Redis is back: both nodes resubscribe and cross-node events flow again without a restart.
  await bringRedisBack(proxy)
  for (const node of [a, b]) {
    await node.waitForLog((l) => l.msg === 'redis connection restored' && String(l.connection).includes(':sub:'), 15_000, 'the node to resubscribe')
  }
  let n = 0
  await waitFor(async () => (await push(b, 'weather', `after-${n++}`)).body.result?.delivered === 1, 15_000, 'a push to cross over again')
  const event = await keptSocket.next()
  assert.is(event.type, 'event')
  assert.match(String(event.data), /^after-\d+$/)
  assert.not.ok(
    keptSocket.messages.some((f) => f.type === 'event' && f.data === 'during'),
    'the push made during the outage is not replayed',
  )
  // And a duplicate is replaced across nodes again.
  await connectOk(b.url, { token: kept.token, username: 'weather' }).then(({ client }) =>
    within(keptSocket.closed, 2_000, 'the replace').then(() => client.close()),
  )
  assert.equal(keptSocket.closeInfo, { code: 4500, reason: 'SESSION_REPLACED' })
  for (const node of [a, b]) assert.not.ok(node.stderr().includes('Unhandled'), node.stderr())
})

failures('should drop the devices of a node killed with -9 from every listing and purge its rows', async ({ cluster, a }) => {
  const c = await cluster.add('node-c')
  await registerUser(a.url, 'survivor')
  const onA = await connectOk(a.url, { token: (await login(a.url, 'survivor', 'password-123', 'on-a')).token, username: 'survivor' })
  const onC = await connectOk(c.url, { token: (await login(c.url, 'survivor', 'password-123', 'on-c')).token, username: 'survivor' })
  await waitFor(async () => (await listDevices(a, 'survivor')).length === 2, 5_000, 'both devices listed')

  await c.kill()
  const killedAt = performance.now()
  await onC.client.waitClose(5_000)
  const listedNodes = async () => (await listDevices(a, 'survivor')).map((d) => d.node_id)
  await waitFor(async () => (await listedNodes()).join() === 'node-a', 10_000, "the dead node's device to leave the listing")
  const rowsOfC = async () =>
    Number(
      (
        await pgAdmin(
          `SELECT (SELECT count(*) FROM ${cluster.schema}.connections WHERE node_id = 'node-c') + (SELECT count(*) FROM ${cluster.schema}.nodes WHERE id = 'node-c') AS n`,
        )
      ).rows[0].n,
    )
  await waitFor(async () => (await rowsOfC()) === 0, 10_000, 'the dead node and its rows to be purged')
  const purgedAfterMs = performance.now() - killedAt
  assert.ok(purgedAfterMs < 30_000, `purged ${purgedAfterMs} ms after the kill`)

  // The CLI lists the same, and the surviving device was never touched.
  const cli = await runCli(['devices', '--user', 'survivor', '--json'], {
    env: { DATABASE_URL: cluster.databaseUrl, NODE_HEARTBEAT_MS: String(NODE_HEARTBEAT_MS) },
  })
  assert.is(cli.code, 0, cli.stderr)
  assert.equal(
    JSON.parse(cli.stdout).devices.map((d: { node_id: string }) => d.node_id),
    ['node-a'],
  )
  await onA.client.roundTrip()
  assert.is(onA.client.closeInfo, null)
  await onA.client.close()
})

failures.run()
