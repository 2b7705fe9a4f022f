import { randomUUID } from 'node:crypto'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { runCli } from '../helpers/cli.js'
import { authHeaders, registerUser, request } from '../helpers/http.js'
import { startServer, type TestServer } from '../helpers/server.js'
import { deleteRedisKeys, dropSchema, newSchemaName, pgUrlFor, requirePostgres, requireRedis, TEST_REDIS_URL } from '../helpers/services.js'
import { waitFor } from '../helpers/wait-for.js'
import { connectOk } from '../helpers/ws.js'

await requirePostgres()
await requireRedis()

const METRIC = /^chatgate_operator_actions_total\{action="(\w+)",via="cli"\} (\d+)$/gm

/** The CLI actions a node counted, by action. */
async function cliActionsCounted(server: TestServer): Promise<Record<string, number>> {
  const text = (await request(server.url, 'GET', '/metrics')).body as string
  return Object.fromEntries([...text.matchAll(METRIC)].map((m) => [m[1]!, Number(m[2])]))
}

let nodes: TestServer[] = []
let schema = ''
let prefix = ''

test.after.each(async () => {
  for (const n of nodes) await n.close()
  nodes = []
  await dropSchema(schema)
  await deleteRedisKeys(prefix)
})

test('cli › should close a revoked socket over the Redis bus, and have exactly one live node count the action', async () => {
  schema = newSchemaName()
  prefix = `cgt:${randomUUID().slice(0, 8)}:`
  const env = { DATABASE_URL: pgUrlFor(schema), REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: prefix }
  nodes = [await startServer(env), await startServer(env)]
  const [a, b] = nodes as [TestServer, TestServer]
  // Neither node's database watcher may see the revocation: only the bus can close the socket.
  for (const n of nodes) n.app.store.listRevokedSince = async () => []

  const user = await registerUser(a.url, 'cli_bus_user')
  const { client } = await connectOk(b.url, { token: user.token, username: user.username })
  const r = await runCli(['sessions', 'revoke', user.sessionId], { env })
  assert.is(r.code, 0, r.stderr)

  assert.is((await client.waitClose(5_000)).code, 4501)
  assert.ok(
    b.logs.some((l) => l.includes('"event":"revocations_applied"') && l.includes('"source":"bus"') && l.includes('"closed":1')),
    'node b applied it from the bus',
  )
  assert.is((await request(b.url, 'GET', '/session', { headers: authHeaders(user.token, user.username) })).status, 401)

  // The CLI names one live node to count it: the sum over nodes is exactly one.
  const counted = await waitFor(
    async () => {
      const [ca, cb] = await Promise.all([cliActionsCounted(a), cliActionsCounted(b)])
      const sum = (ca.revoke_session ?? 0) + (cb.revoke_session ?? 0)
      return sum > 0 ? sum : null
    },
    5_000,
    'a node to count the CLI action',
  )
  assert.is(counted, 1)
  const revokedMetric = /chatgate_sessions_revoked_total\{reason="revoked_by_admin"\} 1/
  const withRevocation = await Promise.all(nodes.map(async (n) => revokedMetric.test((await request(n.url, 'GET', '/metrics')).body)))
  assert.equal(withRevocation.filter(Boolean).length, 1, 'the revocation is counted once, on the same node')
  // The CLI's audit line is at the default level.
  assert.match(r.stderr, /"event":"admin_action".*"action":"revoke_session".*"via":"cli"/)
})

test.run()
