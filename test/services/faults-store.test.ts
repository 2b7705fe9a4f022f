import { setTimeout as sleep } from 'node:timers/promises'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { CLUSTER_SERVICE_TOKEN, listDevices } from '../helpers/cluster.js'
import { authHeaders, login, registerUser, request } from '../helpers/http.js'
import { startNodeProcess, type NodeProcess } from '../helpers/node-process.js'
import { startOwnPostgres, type OwnPostgres } from '../helpers/own-postgres.js'
import { startTcpProxy } from '../helpers/tcp-proxy.js'
import { STORE_TIMEOUT_MS } from '../../src/store/guarded.js'
import { waitFor } from '../helpers/wait-for.js'
import { connect, connectOk, type TestClient } from '../helpers/ws.js'

/**
 * A short node heartbeat: dead after 3 periods (1.5 s), purged after 4 (2 s). The outage below
 * (OUTAGE_MS) is more than twice the purge window, so it stands for the 30 s outage with
 * the default 5 s heartbeat (purge at 20 s) in a fraction of the time.
 */
const NODE_HEARTBEAT_MS = 500
const OUTAGE_MS = 5_000
/** While the store stays down, one warn per this (the default is a minute). */
const WARN_EVERY_MS = 1_000
/** The contract: a request that needs the store is answered within this while it is down. */
const ANSWER_WITHIN_MS = 1_000

type Ctx = { pg: OwnPostgres; a: NodeProcess; b: NodeProcess }
const faults = suite<Ctx>('store faults › a PostgreSQL of the test’s own, stopped and started')

faults.before(async (ctx) => {
  ctx.pg = await startOwnPostgres()
  const env = {
    DATABASE_URL: `${ctx.pg.url}?schema=chatgate`,
    CHATGATE_SERVICE_TOKEN: CLUSTER_SERVICE_TOKEN,
    NODE_HEARTBEAT_MS: String(NODE_HEARTBEAT_MS),
    DEPENDENCY_WARN_EVERY_MS: String(WARN_EVERY_MS),
    // The helpers lift the bound for shared, loaded servers; these nodes run with the default.
    STORE_TIMEOUT_MS: String(STORE_TIMEOUT_MS),
  }
  // One after the other: both migrate the same fresh schema.
  ctx.a = await startNodeProcess({ ...env, NODE_ID: 'node-a' })
  ctx.b = await startNodeProcess({ ...env, NODE_ID: 'node-b' })
})
/** True while the test holds the server down; a failed test must not leave it down for the next one. */
let down = false
async function stopStore(pg: OwnPostgres): Promise<void> {
  down = true
  await pg.stop()
}
async function startStore(pg: OwnPostgres): Promise<void> {
  await pg.start()
  down = false
}
faults.after.each(async ({ pg }) => {
  if (down) await startStore(pg)
})
faults.after(async ({ pg, a, b }) => {
  await Promise.all([a?.stop(), b?.stop()])
  await pg?.destroy()
})

const readyz = async (node: NodeProcess) => {
  // A node that cannot be reached here has died: say why, with its last output.
  const res = await fetch(`${node.url}/readyz`).catch((err) => {
    throw new Error(`/readyz unreachable (${(err as Error).message}); the node's last output:\n${node.output().slice(-3000)}`)
  })
  return { status: res.status, body: (await res.json()) as { ok: boolean; store: string; bus: string } }
}

/** Runs `call` and returns its outcome with how long it took. */
async function timed<T>(call: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now()
  const value = await call()
  return { value, ms: performance.now() - started }
}

faults(
  'should answer 503 UNAVAILABLE with Retry-After within 1 s while the store is down, keep live sockets, and log the outage quietly',
  async ({ pg, a }) => {
    const user = await registerUser(a.url, 'outage')
    const leaving = await login(a.url, 'outage', 'password-123', 'leaving')
    const { client } = await connectOk(a.url, { token: user.token, username: 'outage' })
    client.ignore('devices')
    assert.equal(await readyz(a), { status: 200, body: { ok: true, store: 'up', bus: 'off' } })
    const logsBefore = a.logs.length

    await stopStore(pg)
    await waitFor(async () => (await readyz(a)).status === 503, 5_000, '/readyz to say the store is down')
    assert.equal((await readyz(a)).body, { ok: false, store: 'down', bus: 'off' })

    const loginTry = await timed(() => request(a.url, 'POST', '/session', { body: { username: 'outage', password: 'password-123' } }))
    const logoutTry = await timed(() => request(a.url, 'DELETE', '/session', { headers: authHeaders(leaving.token, 'outage') }))
    const upgradeTry = await timed(() => connect(a.url, { token: leaving.token, username: 'outage' }))
    for (const [what, res] of [
      ['login', loginTry.value],
      ['logout', logoutTry.value],
    ] as const) {
      assert.is(res.status, 503, `${what}: ${JSON.stringify(res.body)}`)
      assert.is(res.body.error_info.error_code, 'UNAVAILABLE', what)
      assert.ok(Number(res.headers.get('retry-after')) >= 1, `${what}: Retry-After`)
    }
    assert.is(upgradeTry.value.status, 503, 'handshake refused')
    assert.is(upgradeTry.value.body.error_info.error_code, 'UNAVAILABLE')
    assert.ok(Number(upgradeTry.value.headers['retry-after']) >= 1, 'handshake: Retry-After')
    for (const [what, t] of Object.entries({ login: loginTry, logout: logoutTry, handshake: upgradeTry })) {
      assert.ok(t.ms < ANSWER_WITHIN_MS, `${what} answered in ${Math.round(t.ms)} ms`)
    }
    // The process still serves: /healthz says so, and the live socket keeps answering.
    assert.is((await fetch(`${a.url}/healthz`)).status, 200)
    await client.roundTrip()

    // Stays down past a few warn periods; then comes back on its own.
    await sleep(3 * WARN_EVERY_MS)
    await startStore(pg)
    await waitFor(async () => (await readyz(a)).status === 200, 10_000, '/readyz to say the store is back')
    assert.equal((await readyz(a)).body, { ok: true, store: 'up', bus: 'off' })
    const again = await request(a.url, 'POST', '/session', { body: { username: 'outage', password: 'password-123' } })
    assert.is(again.status, 200, 'logins work again, no restart')
    await client.roundTrip()
    assert.is(client.closeInfo, null, 'the live socket never closed')

    const lines = a.logs.slice(logsBefore).filter((l) => l.dependency === 'store')
    const downs = lines.filter((l) => l.event === 'dependency_down')
    const warns = lines.filter((l) => l.event === 'dependency_still_down')
    const ups = lines.filter((l) => l.event === 'dependency_up')
    assert.is(downs.length, 1, 'one error when it went down')
    assert.is(downs[0]!.level, 50)
    assert.is(ups.length, 1, 'one info when it came back')
    assert.is(ups[0]!.level, 30)
    assert.ok(warns.length >= 1 && warns.length <= 6, `about one warn per period: ${warns.length}`)
    for (const w of warns) assert.ok(w.level === 40 && w.failures > 1 && w.err === undefined, 'a warn counts failures, no stack')
    const errors = a.logs.slice(logsBefore).filter((l) => l.level >= 50)
    assert.equal(
      errors.map((l) => l.event ?? l.msg),
      ['dependency_down'],
      'no other error line, no stack per retry',
    )
    const stacks = a.logs.slice(logsBefore).filter((l) => typeof l.err?.stack === 'string')
    assert.ok(stacks.length <= 1, `at most the one stack of the first failure: ${stacks.length}`)
  },
)

faults('should list every live device throughout the recovery from an outage longer than the liveness window', async ({ pg, a, b }) => {
  const clients: TestClient[] = []
  for (const [node, name] of [
    [a, 'blind-a1'],
    [a, 'blind-a2'],
    [b, 'blind-b1'],
    [b, 'blind-b2'],
  ] as const) {
    const u = await registerUser(node.url, name)
    clients.push((await connectOk(node.url, { token: u.token, username: name })).client.ignore('devices'))
  }
  const ours = async (node: NodeProcess) => (await listDevices(node)).filter((d) => d.username.startsWith('blind-')).length
  await waitFor(async () => (await ours(a)) === 4 && (await ours(b)) === 4, 5_000, 'all four devices listed on both nodes')

  await stopStore(pg)
  await sleep(OUTAGE_MS)
  await startStore(pg)

  // For four purge windows after the store is back, every listing either fails 503 (the pool is
  // reconnecting) or holds all four devices: never fewer.
  const until = performance.now() + 4 * 4 * NODE_HEARTBEAT_MS
  const seen: number[] = []
  let answered = 0
  while (performance.now() < until) {
    for (const node of [a, b]) {
      const res = await request(node.url, 'GET', '/admin/devices', { headers: { Authorization: `Bearer ${CLUSTER_SERVICE_TOKEN}` } })
      if (res.status === 503) continue
      assert.is(res.status, 200)
      answered++
      seen.push(res.body.result.devices.filter((d: { username: string }) => d.username.startsWith('blind-')).length)
    }
    await sleep(25)
  }
  assert.ok(answered > 20, `listings answered after the recovery: ${answered}`)
  assert.ok(
    seen.every((n) => n === 4),
    `devices listed: ${seen.join(',')}`,
  )
  for (const c of clients) assert.is(c.closeInfo, null, 'no socket closed')
  for (const node of [a, b]) {
    assert.not.ok(
      node.logs.some((l) => l.event === 'nodes_purged'),
      'no node purged another',
    )
  }
})

/**
 * A hung server answers nothing: each call ends at STORE_TIMEOUT_MS (800 ms by default). The bound
 * asserted is generous (the machine is shared); what must not happen is a wait of seconds.
 */
const HUNG_ANSWER_WITHIN_MS = 2_000

faults('should answer 503 UNAVAILABLE after a bounded wait while the server hangs, and recover when it answers again', async ({ pg, a }) => {
  await registerUser(a.url, 'hung')
  const leaving = await login(a.url, 'hung', 'password-123', 'leaving')
  let paused = true
  await pg.pause()
  try {
    const loginTry = await timed(() => request(a.url, 'POST', '/session', { body: { username: 'hung', password: 'password-123' } }))
    const upgradeTry = await timed(() => connect(a.url, { token: leaving.token, username: 'hung' }))
    assert.is(loginTry.value.status, 503, JSON.stringify(loginTry.value.body))
    assert.is(loginTry.value.body.error_info.error_code, 'UNAVAILABLE')
    assert.is(loginTry.value.headers.get('retry-after'), '1')
    assert.is(upgradeTry.value.status, 503)
    for (const [what, t] of Object.entries({ login: loginTry, handshake: upgradeTry })) {
      assert.ok(t.ms < HUNG_ANSWER_WITHIN_MS, `${what} answered in ${Math.round(t.ms)} ms`)
    }
    assert.is((await readyz(a)).body.store, 'down')
    await pg.resume()
    paused = false
    await waitFor(async () => (await readyz(a)).status === 200, 10_000, '/readyz to say the store is back')
    const again = await request(a.url, 'POST', '/session', { body: { username: 'hung', password: 'password-123' } })
    assert.is(again.status, 200)
  } finally {
    if (paused) await pg.resume()
  }
})

/**
 * The partition below needs a heartbeat longer than the write-behind retry (1 s), so that a node
 * that waited for its next beat to rewrite its rows would be seen late: dead after 12 s, purged
 * after 16 s (at most 20 s), on a schema of their own.
 */
const SLOW_HEARTBEAT_MS = 4_000
/** The write-behind window: a failed row write is retried after 1 s (src/gateway/row-writer.ts). */
const WRITE_BEHIND_MS = 1_000

faults('should rewrite the rows of a node cut from the store, purged meanwhile, within the write-behind window of its return', async ({ pg }) => {
  const proxy = await startTcpProxy('127.0.0.1', Number(new URL(pg.url).port))
  const env = {
    CHATGATE_SERVICE_TOKEN: CLUSTER_SERVICE_TOKEN,
    NODE_HEARTBEAT_MS: String(SLOW_HEARTBEAT_MS),
    DEPENDENCY_WARN_EVERY_MS: String(WARN_EVERY_MS),
    // The helpers lift the bound for shared, loaded servers; these nodes run with the default.
    STORE_TIMEOUT_MS: String(STORE_TIMEOUT_MS),
  }
  const seeing = await startNodeProcess({ ...env, NODE_ID: 'seeing', DATABASE_URL: `${pg.url}?schema=partition` })
  const cut = await startNodeProcess({
    ...env,
    NODE_ID: 'cut',
    DATABASE_URL: `postgres://postgres@127.0.0.1:${proxy.port}/postgres?schema=partition`,
  })
  try {
    const u = await registerUser(cut.url, 'partitioned')
    const { client } = await connectOk(cut.url, { token: u.token, username: 'partitioned' })
    client.ignore('devices')
    const listed = async () => (await listDevices(seeing, 'partitioned')).length
    await waitFor(async () => (await listed()) === 1, 5_000, 'the device listed through the other node')

    // Only `cut` loses the store; `seeing` watches it fall silent and purges it with its rows.
    await proxy.stop()
    await seeing.waitForLog((l) => l.event === 'nodes_purged' && l.node_ids.includes('cut'), 6 * SLOW_HEARTBEAT_MS, 'the silent node to be purged')
    assert.is(await listed(), 0, 'its rows are gone')

    await proxy.start()
    const back = performance.now()
    await waitFor(async () => (await listed()) === 1, 5 * WRITE_BEHIND_MS, 'the device listed again')
    const ms = performance.now() - back
    assert.ok(ms < WRITE_BEHIND_MS, `listed again ${Math.round(ms)} ms after the store came back (its heartbeat is ${SLOW_HEARTBEAT_MS} ms)`)
    await client.roundTrip()
    assert.is(client.closeInfo, null, 'the socket stayed up throughout')
  } finally {
    await Promise.all([seeing.stop(), cut.stop()])
    await proxy.stop()
  }
})

faults.run()
