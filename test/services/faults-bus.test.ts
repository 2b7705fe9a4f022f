import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { listDevices, serviceHeaders, startCluster, type Cluster } from '../helpers/cluster.js'
import { registerUser, request } from '../helpers/http.js'
import type { NodeProcess } from '../helpers/node-process.js'
import { startOwnRedis, type OwnRedis } from '../helpers/own-redis.js'
import { requirePostgres, requireRedis } from '../helpers/services.js'
import { waitFor } from '../helpers/wait-for.js'
import { connect, connectOk, type TestClient } from '../helpers/ws.js'

await requirePostgres()
await requireRedis()

/** BUS_MAX_AGE_MS of the hung-Redis cluster: shorter than the default so the test waits less. */
const MAX_AGE_MS = 2_000

const timed = async <T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> => {
  const started = performance.now()
  const value = await work()
  return { value, ms: performance.now() - started }
}

const staleDropped = async (node: NodeProcess): Promise<number> => {
  const text = (await request(node.url, 'GET', '/metrics')).body as string
  const m = /^chatgate_bus_stale_dropped_total (\d+)/m.exec(text)
  if (!m) throw new Error('no chatgate_bus_stale_dropped_total in /metrics')
  return Number(m[1])
}

const push = (node: NodeProcess, username: string, data: unknown) =>
  request(node.url, 'POST', `/admin/users/${username}/events`, { body: { data }, headers: serviceHeaders })

const readyz = async (node: NodeProcess) => {
  const res = await request(node.url, 'GET', '/readyz')
  return { status: res.status, body: res.body }
}

const eventsOf = (client: TestClient) => client.messages.filter((f) => f.type === 'event').map((f) => f.data)

// ── Redis hung (SIGSTOP of a test-owned redis-server) ───────────────────────────────────────────
type HungCtx = { redis: OwnRedis; cluster: Cluster; a: NodeProcess; b: NodeProcess }
const hung = suite<HungCtx>('faults › redis hung')

hung.before(async (ctx) => {
  ctx.redis = await startOwnRedis()
  ctx.cluster = await startCluster({
    nodeIds: ['node-a', 'node-b'],
    env: { REDIS_URL: ctx.redis.url, BUS_MAX_AGE_MS: String(MAX_AGE_MS), REDIS_LIMITER_COOLDOWN_MS: '2000' },
  })
  Object.assign(ctx, { a: ctx.cluster.nodes['node-a'], b: ctx.cluster.nodes['node-b'] })
})
hung.after(async ({ cluster, redis }) => {
  redis?.resume()
  await cluster?.close()
  await redis?.stop()
})

hung('faults › login costs one timeout, push answers in its bound, nothing late after SIGCONT', async ({ redis, a, b }) => {
  const listener = await registerUser(a.url, 'listener')
  await registerUser(a.url, 'login_user')
  const socket = (await connectOk(b.url, { token: listener.token, username: 'listener' })).client.ignore('devices')
  await waitFor(async () => (await listDevices(a, 'listener')).length === 1, 5_000, "the listener's row on node B")
  assert.equal((await push(a, 'listener', { n: 'before' })).body.result, { delivered: 1 }, 'the bus works before the fault')
  assert.equal(await socket.nextOfType('event').then((f) => f.data), { n: 'before' })
  assert.equal(await readyz(a), { status: 200, body: { ok: true, store: 'up', bus: 'up' } })

  redis.pause()
  try {
    // Three logins in a row: the first waits for one 500 ms limiter timeout, the breaker then
    // counts in memory (before: 3 timeouts, 1.5 s, for every login).
    const logins = []
    for (let i = 0; i < 3; i++) {
      logins.push(await timed(() => request(a.url, 'POST', '/session', { body: { username: 'login_user', password: 'password-123', device_name: `d${i}` } })))
    }
    assert.equal(
      logins.map((l) => l.value.status),
      [200, 200, 200],
    )
    assert.ok(logins[0]!.ms < 1_300, `the first login took ${Math.round(logins[0]!.ms)} ms (one timeout is 500 ms)`)
    for (const l of logins.slice(1)) assert.ok(l.ms < 400, `a later login took ${Math.round(l.ms)} ms: it waited on Redis again`)

    // A push waits at most the publish timeout (1 s) and the answer wait (250 ms), then says 0.
    const pushes = [await timed(() => push(a, 'listener', { n: 'hung-1' })), await timed(() => push(a, 'listener', { n: 'hung-2' }))]
    for (const p of pushes) {
      assert.is(p.value.status, 200)
      assert.equal(p.value.body.result, { delivered: 0 })
      assert.ok(p.ms < 1_900, `a push took ${Math.round(p.ms)} ms (bound 1250 ms)`)
    }
    // The connections stay open, but the health ping goes unanswered: a balancer is told.
    await waitFor(async () => (await readyz(a)).status === 503, 5_000, '/readyz to say the hung bus is down')
    await waitFor(async () => (await readyz(b)).status === 503, 5_000, '/readyz on node B too')
    assert.equal((await readyz(b)).body, { ok: false, store: 'up', bus: 'down' })
    // Held up longer than BUS_MAX_AGE_MS: when Redis resumes, the PUBLISH it still holds is stale.
    await new Promise((r) => setTimeout(r, MAX_AGE_MS + 500))
  } finally {
    redis.resume()
  }

  // Redis works through what it held; node B drops the stale pushes and counts them.
  await waitFor(async () => (await staleDropped(b)) >= 2, 5_000, 'node B to count the stale pushes')
  await new Promise((r) => setTimeout(r, 500))
  assert.equal(eventsOf(socket), [{ n: 'before' }], 'no push arrived late (a backend that retried would see it twice)')

  await waitFor(async () => (await readyz(a)).status === 200 && (await readyz(b)).status === 200, 5_000, '/readyz to say the bus is back')

  // Healed: a fresh push reaches node B's socket again, on time.
  await waitFor(async () => (await push(a, 'listener', { n: 'after' })).body.result.delivered === 1, 10_000, 'pushes to reach node B again')
  await waitFor(() => eventsOf(socket).some((d) => d.n === 'after'), 5_000, 'the fresh push on the socket')
  assert.not.ok(
    eventsOf(socket).some((d) => String(d.n).startsWith('hung')),
    'never the stale ones',
  )
  await socket.close()
})

// ── reject across nodes ────────────────────────────────────────────────────────────────────────
/** NODE_HEARTBEAT_MS of the reject cluster: a killed node is known dead 3 beats (1.5 s) after its last. */
const NODE_HEARTBEAT_MS = 500
type RejectCtx = { cluster: Cluster; nodes: NodeProcess[] }
const reject = suite<RejectCtx>('faults › reject across nodes')

reject.before(async (ctx) => {
  ctx.cluster = await startCluster({
    nodeIds: ['node-a', 'node-b', 'node-c'],
    env: { DUPLICATE_POLICY: 'reject', NODE_HEARTBEAT_MS: String(NODE_HEARTBEAT_MS), MAX_CONNECTIONS_PER_USER: '100' },
  })
  ctx.nodes = ['node-a', 'node-b', 'node-c'].map((id) => ctx.cluster.nodes[id]!)
})
reject.after(async ({ cluster }) => {
  await cluster?.close()
})

reject('faults › 50 opens of one pair on 3 nodes admit one; a killed holder frees it once known dead', async ({ nodes }) => {
  const u = await registerUser(nodes[0]!.url, 'racer')
  const creds = { token: u.token, username: 'racer' }
  const opens = await Promise.all(Array.from({ length: 50 }, (_, i) => connect(nodes[i % 3]!.url, creds).then((up) => ({ up, node: nodes[i % 3]! }))))
  const admitted = opens.filter((o) => o.up.status === 101)
  assert.is(admitted.length, 1, `admitted ${admitted.length} of 50`)
  for (const o of opens.filter((o) => o.up.status !== 101)) {
    assert.is(o.up.status, 409)
    assert.is(o.up.body.error_info.error_code, 'SESSION_IN_USE')
  }
  const holder = admitted[0]!.node
  await waitFor(async () => (await listDevices(nodes.find((n) => n !== holder)!, 'racer')).length === 1, 5_000, "the holder's row")
  assert.equal((await listDevices(nodes.find((n) => n !== holder)!, 'racer')).length, 1, 'one socket in the listing')

  // The holder crashes: its claim counts until the node is known dead, then a survivor admits.
  await holder.kill()
  const killedAt = performance.now()
  const survivor = nodes.find((n) => n !== holder)!
  const early = await connect(survivor.url, creds)
  assert.is(early.status, 409, 'right after the crash the node still counts as live')
  let admittedAt = 0
  await waitFor(
    async () => {
      const up = await connect(survivor.url, creds)
      if (up.status !== 101) return false
      admittedAt = performance.now()
      await up.client!.close()
      return true
    },
    10_000,
    'the pair to be admitted on a survivor',
  )
  const waited = admittedAt - killedAt
  assert.ok(waited < 3 * NODE_HEARTBEAT_MS + 2_000, `admitted ${Math.round(waited)} ms after the crash (known dead after ${3 * NODE_HEARTBEAT_MS} ms)`)
  for (const o of admitted) if (o.node !== holder) await o.up.client?.close()
})

hung.run()
reject.run()
