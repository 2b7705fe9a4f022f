import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { listDevices, startCluster, type Cluster } from '../helpers/cluster.js'
import { registerUser } from '../helpers/http.js'
import type { NodeProcess } from '../helpers/node-process.js'
import { requirePostgres, requireRedis } from '../helpers/services.js'
import { waitFor } from '../helpers/wait-for.js'
import { connect, connectOk } from '../helpers/ws.js'

await requirePostgres()
await requireRedis()

type Ctx = { cluster: Cluster; a: NodeProcess; b: NodeProcess }
const reject = suite<Ctx>('nodes › DUPLICATE_POLICY=reject on two nodes')

reject.before(async (ctx) => {
  ctx.cluster = await startCluster({ nodeIds: ['node-a', 'node-b'], env: { DUPLICATE_POLICY: 'reject' } })
  Object.assign(ctx, { a: ctx.cluster.nodes['node-a'], b: ctx.cluster.nodes['node-b'] })
})
reject.after(async ({ cluster }) => {
  await cluster?.close()
})

reject('should refuse with 409 a pair live on another node, and leave the live socket alone', async ({ a, b }) => {
  const u = await registerUser(a.url, 'single')
  const first = await connectOk(a.url, { token: u.token, username: 'single' })
  // The rule reads the connections table: node A's row is written behind, within milliseconds.
  await waitFor(async () => (await listDevices(b, 'single')).length === 1, 5_000, 'the row of the socket on node A')
  const second = await connect(b.url, { token: u.token, username: 'single' })
  assert.is(second.status, 409)
  assert.is(second.body.error_info.error_code, 'SESSION_IN_USE')
  assert.is(second.client, null, 'no socket on node B')
  await first.client.roundTrip()
  assert.is(first.client.closeInfo, null)
  assert.not.ok(
    first.client.messages.some((f) => f.type === 'revoked'),
    'the live socket is not told anything',
  )
  assert.equal(
    (await listDevices(b, 'single')).map((d) => d.node_id),
    ['node-a'],
  )

  // Once it is gone (its row too), the pair may connect on node B.
  await first.client.close()
  await waitFor(async () => (await listDevices(b, 'single')).length === 0, 5_000, 'the row to go')
  const later = await connectOk(b.url, { token: u.token, username: 'single' })
  await later.client.close()
})

reject.run()
