import { randomUUID } from 'node:crypto'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { RedisBus } from '../../src/cluster/redis-bus.js'
import type { BusEvent } from '../../src/cluster/bus.js'
import { authHeaders, login, registerUser, request } from '../helpers/http.js'
import { captureLogs } from '../helpers/logs.js'
import { startNodeProcess, type NodeProcess } from '../helpers/node-process.js'
import { deleteRedisKeys, dropSchema, newSchemaName, pgUrlFor, requirePostgres, requireRedis, TEST_REDIS_URL } from '../helpers/services.js'
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js'
import { waitFor } from '../helpers/wait-for.js'

await requirePostgres()
await requireRedis()

const SERVICE_TOKEN = 'svc-token-0123456789-abcdefghijklmnop-xyz'
const service = { Authorization: `Bearer ${SERVICE_TOKEN}` }

let node: NodeProcess | undefined
let proxy: TcpProxy | undefined
let watcher: RedisBus | undefined
let schema: string | undefined
let prefix: string | undefined

test.after.each(async () => {
  if (node) assert.is(await node.stop(), 0, 'the node exits 0 on SIGTERM')
  await proxy?.stop()
  await watcher?.close()
  if (schema) await dropSchema(schema)
  if (prefix) await deleteRedisKeys(prefix)
  node = proxy = watcher = schema = prefix = undefined
})

test('node › should keep serving while Redis is away, and its events reach other nodes again after', async () => {
  prefix = `cgt:${randomUUID().slice(0, 8)}:`
  const target = new URL(TEST_REDIS_URL)
  proxy = await startTcpProxy(target.hostname, Number(target.port || 6379))
  schema = newSchemaName()
  node = await startNodeProcess({
    DATABASE_URL: pgUrlFor(schema),
    REDIS_URL: `redis://127.0.0.1:${proxy.port}`,
    REDIS_PREFIX: prefix,
    NODE_ID: 'node-under-test',
    BCRYPT_COST: '4',
    CHATGATE_ADMIN_PASSWORD: 'admin-password-123',
    CHATGATE_SERVICE_TOKEN: SERVICE_TOKEN,
  })
  // Another "node": a bus on the same prefix, straight to Redis.
  watcher = await RedisBus.open({ url: TEST_REDIS_URL, prefix: prefix, log: captureLogs().log })
  const seen: BusEvent[] = []
  watcher.subscribe((e) => seen.push(e))
  const pushedTo = (marker: string) => seen.some((e) => e.type === 'user_event' && (e.data as { marker?: string }).marker === marker)
  const revokedIds = () => seen.flatMap((e) => (e.type === 'sessions_revoked' ? e.sessionIds : []))

  const user = await registerUser(node.url, 'node_user')
  const push = (marker: string) => request(node!.url, 'POST', '/admin/users/node_user/events', { body: { data: { marker } }, headers: service })

  // Before: a push and a logout on the node reach the other node.
  assert.is((await push('before')).status, 200)
  await waitFor(() => pushedTo('before'), 5_000, 'the push to cross over')
  const first = await login(node.url, 'node_user')
  assert.is((await request(node.url, 'DELETE', '/session', { headers: authHeaders(first.token, first.username) })).status, 200)
  await waitFor(() => revokedIds().includes(first.sessionId), 5_000, 'the revocation to cross over')

  // Redis goes away: the node notices, keeps answering, and does not crash.
  await proxy.stop()
  await node.waitForLog((l) => l.msg === 'redis connection lost; reconnecting with backoff', 10_000, 'the node to notice the outage')
  const during = await push('during')
  assert.is(during.status, 200, 'a push during the outage is answered, not failed or hung')
  const second = await login(node.url, 'node_user')
  assert.is((await request(node.url, 'DELETE', '/session', { headers: authHeaders(second.token, second.username) })).status, 200)
  assert.is((await request(node.url, 'GET', '/healthz')).status, 200)
  assert.is((await request(node.url, 'GET', '/session', { headers: authHeaders(user.token, user.username) })).status, 200)
  assert.is(node.proc.exitCode, null, 'the node must still run')
  await node.waitForLog((l) => l.msg === 'bus: publish to redis failed; delivered on this node only', 5_000, 'the lost publish to be logged')

  // Redis is back: events flow again without a restart.
  await proxy.start()
  await node.waitForLog((l) => l.msg === 'redis connection restored', 15_000, 'the node to reconnect')
  let n = 0
  await waitFor(
    async () => {
      const marker = `after-${n++}`
      assert.is((await push(marker)).status, 200)
      return waitFor(() => pushedTo(marker), 300, 'one push').then(
        () => true,
        () => false,
      )
    },
    15_000,
    'pushes to cross over again',
  )
  const third = await login(node.url, 'node_user')
  assert.is((await request(node.url, 'DELETE', '/session', { headers: authHeaders(third.token, third.username) })).status, 200)
  await waitFor(() => revokedIds().includes(third.sessionId), 5_000, 'revocations to cross over again')
  assert.not.ok(pushedTo('during'), 'what was published during the outage is not replayed')
  assert.not.ok(revokedIds().includes(second.sessionId))
  assert.not.ok(node.stderr().includes('Unhandled'), node.stderr())
})

test.run()
