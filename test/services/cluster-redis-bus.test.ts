import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { LocalBus } from '../../src/cluster/local-bus.js'
import { openBus } from '../../src/cluster/open-bus.js'
import { RedisBus } from '../../src/cluster/redis-bus.js'
import type { BusEvent } from '../../src/cluster/bus.js'
import { captureLogs } from '../helpers/logs.js'
import { requireRedis, TEST_REDIS_URL } from '../helpers/services.js'
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js'
import { waitFor } from '../helpers/wait-for.js'

await requireRedis()

const newPrefix = () => `cgt:${randomUUID().slice(0, 8)}:`
const revoked = (id = randomUUID()): BusEvent => ({ type: 'sessions_revoked', sessionIds: [id], reason: 'logout' })
const idsOf = (events: BusEvent[]) => events.map((e) => (e.type === 'sessions_revoked' ? e.sessionIds[0] : e.type === 'user_event' ? e.id : e.type))

let buses: RedisBus[] = []
let proxies: TcpProxy[] = []
let admin: Redis | undefined

async function node(prefix: string, url = TEST_REDIS_URL) {
  const logs = captureLogs()
  const bus = await RedisBus.open({ url, prefix, log: logs.log, connectTimeoutMs: 3_000 })
  buses.push(bus)
  const got: BusEvent[] = []
  bus.subscribe((e) => got.push(e))
  return { bus, got, logs: logs.lines }
}

/** Publishes fresh events from `from` until `to` receives one: proof that events flow (after a reconnect). */
async function flows(from: RedisBus, to: BusEvent[], what: string) {
  await waitFor(
    async () => {
      const e = revoked()
      await from.publish(e)
      return waitFor(() => idsOf(to).includes(idsOf([e])[0]!), 200, 'one event').then(
        () => true,
        () => false,
      )
    },
    15_000,
    what,
  )
}

function cleanEach(s: ReturnType<typeof suite>) {
  s.after.each(async () => {
    for (const b of buses) await b.close()
    for (const p of proxies) await p.stop()
    admin?.disconnect()
    buses = []
    proxies = []
    admin = undefined
  })
}

// ── delivery ───────────────────────────────────────────────────────────────────────────────────
const delivery = suite('redis bus › delivery')
cleanEach(delivery)

delivery('should deliver an event published on one node to another node, and once to its own node', async () => {
  const prefix = newPrefix()
  const a = await node(prefix)
  const b = await node(prefix)
  const first = revoked()
  const publishing = a.bus.publish(first)
  assert.equal(a.got, [first], 'local subscribers get the event at once, before Redis answers')
  await publishing
  await waitFor(() => b.got.length === 1, 5_000, 'node B to receive the event')
  assert.equal(b.got, [first])

  // B's reply reaches A after the echo of A's own event would have (Redis keeps per-connection order).
  const marker = revoked()
  await b.bus.publish(marker)
  await waitFor(() => a.got.length === 2, 5_000, 'node A to receive the marker')
  assert.equal(a.got, [first, marker], 'A must not receive the echo of its own event')
  assert.equal(b.got, [first, marker])
})

delivery('should carry a pushed user_event with any JSON data unchanged', async () => {
  const prefix = newPrefix()
  const a = await node(prefix)
  const b = await node(prefix)
  const event: BusEvent = {
    type: 'user_event',
    id: randomUUID(),
    nodeId: 'node-a',
    userId: randomUUID(),
    answerFrom: ['node-b'],
    data: { text: 'héllo ✓ \u2028', n: [1, 2.5, -3], nested: { ok: true, none: null } },
  }
  await a.bus.publish(event)
  await waitFor(() => b.got.length === 1, 5_000, 'the user_event on node B')
  assert.equal(b.got[0], event)
})

delivery('should keep deployments with different prefixes apart', async () => {
  const [p1, p2] = [newPrefix(), newPrefix()]
  const a = await node(p1)
  const b = await node(p1)
  const c = await node(p2)
  const d = await node(p2)
  const e1 = revoked()
  await a.bus.publish(e1)
  await waitFor(() => b.got.length === 1, 5_000, 'same-prefix delivery')
  const marker = revoked()
  await d.bus.publish(marker)
  await waitFor(() => c.got.length === 1, 5_000, 'the marker on the other prefix')
  assert.equal(c.got, [marker], 'an event of prefix 1 must not reach prefix 2')
  assert.equal(b.got, [e1], 'an event of prefix 2 must not reach prefix 1')
  assert.is(a.bus.channel, `${p1}bus`)
})

delivery('should ignore malformed messages on its channel and keep delivering', async () => {
  const prefix = newPrefix()
  const a = await node(prefix)
  const b = await node(prefix)
  admin = new Redis(TEST_REDIS_URL)
  for (const junk of ['not json', 'null', '[]', '{"from":"x"}', '{"from":"x","event":{"type":7}}', 'x'.repeat(1024 * 1024 + 1)]) {
    await admin.publish(a.bus.channel, junk)
  }
  const good = revoked()
  await b.bus.publish(good)
  await waitFor(() => a.got.length === 1, 5_000, 'the good event after the junk')
  assert.equal(a.got, [good])
  assert.is(a.logs.filter((l) => l.msg === 'bus: ignored a malformed message').length, 6)
})

delivery('should drop and count a message older than its age bound, and deliver one on time', async () => {
  const prefix = newPrefix()
  const a = await node(prefix)
  admin = new Redis(TEST_REDIS_URL)
  const stale = revoked()
  const fresh = revoked()
  // As a hung Redis delivers a publish it held: sentAt 6 s ago, past the 5 s default.
  await admin.publish(a.bus.channel, JSON.stringify({ from: 'other-node', sentAt: Date.now() - 6_000, event: stale }))
  await admin.publish(a.bus.channel, JSON.stringify({ from: 'other-node', sentAt: Date.now() - 1_000, event: fresh }))
  await waitFor(() => a.got.length === 1, 5_000, 'the event on time')
  assert.equal(a.got, [fresh])
  assert.is(a.bus.staleDropped, 1)
})

delivery('should give every handler the event when one of them throws', async () => {
  const prefix = newPrefix()
  const a = await node(prefix)
  const b = await node(prefix)
  a.bus.subscribe(() => {
    throw new Error('handler bug')
  })
  const after: BusEvent[] = []
  a.bus.subscribe((e) => after.push(e))
  const remote = revoked()
  await b.bus.publish(remote)
  await waitFor(() => after.length === 1, 5_000, 'the handler after the failing one')
  const local = revoked()
  await a.bus.publish(local) // must not reject
  assert.equal(after, [remote, local])
  assert.equal(a.got, [remote, local])
  assert.is(a.logs.filter((l) => l.msg === 'bus: an event handler failed').length, 2)
})

// ── outages ────────────────────────────────────────────────────────────────────────────────────
const outages = suite('redis bus › outages')
cleanEach(outages)

outages('should keep delivering locally while Redis is away, and carry events again when it is back', async () => {
  const prefix = newPrefix()
  const target = new URL(TEST_REDIS_URL)
  const proxy = await startTcpProxy(target.hostname, Number(target.port || 6379))
  proxies.push(proxy)
  const a = await node(prefix, `redis://127.0.0.1:${proxy.port}`)
  const b = await node(prefix)
  await flows(a.bus, b.got, 'events from A to B before the outage')

  await proxy.stop()
  await waitFor(() => !a.bus.connected, 5_000, 'node A to notice the outage')
  const during = revoked()
  await a.bus.publish(during) // resolves: a lost cross-node event is logged, not thrown
  assert.ok(a.got.includes(during), 'local delivery must continue during the outage')
  assert.ok(a.logs.some((l) => l.msg === 'bus: publish to redis failed; delivered on this node only'))
  assert.ok(a.logs.some((l) => l.msg === 'redis connection lost; reconnecting with backoff'))

  await proxy.start()
  await waitFor(() => a.bus.connected, 15_000, 'node A to reconnect')
  await flows(a.bus, b.got, 'events from A to B after the outage')
  await flows(b.bus, a.got, 'events from B to A after the outage (A resubscribed)')
  assert.not.ok(b.got.includes(during), 'the event published during the outage is not replayed')
  assert.ok(a.logs.some((l) => l.msg === 'redis connection restored'))
})

outages('should reconnect and resubscribe after the server kills its connections', async () => {
  const prefix = newPrefix()
  const a = await node(prefix)
  const b = await node(prefix)
  await flows(a.bus, b.got, 'events before the kill')
  admin = new Redis(TEST_REDIS_URL)
  const tag = a.bus.instanceId.slice(0, 8)
  const mine = async () =>
    String(await admin!.call('CLIENT', 'LIST'))
      .split('\n')
      .filter((line) => line.includes(` name=${prefix}pub:${tag} `) || line.includes(` name=${prefix}sub:${tag} `))
      .map((line) => /(?:^| )id=(\d+)/.exec(line)![1]!)
  const before = await mine()
  assert.is(before.length, 2, 'A has one publisher and one subscriber connection')
  for (const id of before) assert.is(await admin.call('CLIENT', 'KILL', 'ID', id), 1)

  await waitFor(
    async () => {
      const now = await mine()
      return now.length === 2 && now.every((id) => !before.includes(id))
    },
    15_000,
    'A to open two new connections',
  )
  await flows(a.bus, b.got, 'events from A after the kill')
  await flows(b.bus, a.got, 'events to A after the kill (resubscribed)')
})

outages('should refuse to start when Redis cannot be reached, naming the server', async () => {
  const { log } = captureLogs()
  const err = await RedisBus.open({ url: 'redis://:pw-secret@127.0.0.1:1', prefix: newPrefix(), log, connectTimeoutMs: 500 }).catch((e) => e)
  assert.instance(err, Error)
  assert.match(err.message, /Redis is not reachable at 127\.0\.0\.1:1/)
  assert.not.match(err.message, /pw-secret/)
})

outages('should choose the in-process bus without REDIS_URL and the Redis bus with it', async () => {
  const { log } = captureLogs()
  const local = await openBus({ redisUrl: undefined, redisPrefix: 'x:' }, log)
  assert.instance(local, LocalBus)
  await local.close()
  const prefix = newPrefix()
  const remote = await openBus({ redisUrl: TEST_REDIS_URL, redisPrefix: prefix }, log)
  assert.instance(remote, RedisBus)
  assert.is((remote as RedisBus).channel, `${prefix}bus`)
  await remote.close()
})

delivery.run()
outages.run()
