import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { addConnectionRow, removeConnectionRows } from './helpers/connection-rows.js'
import { authHeaders, backofficeLogin, login, registerUser, request } from './helpers/http.js'
import { startServer, type TestServer } from './helpers/server.js'

let srv: TestServer
let admin: Record<string, string>

test.before(async () => {
  srv = await startServer()
  admin = authHeaders((await backofficeLogin(srv.url)).token, 'admin')
})
test.after(async () => {
  await srv.close()
})

const devices = async (query = '') => {
  const res = await request(srv.url, 'GET', `/admin/devices${query}`, { headers: admin })
  assert.is(res.status, 200, JSON.stringify(res.body))
  return res.body.result as { devices: any[]; next_cursor: string | null }
}

test('devices › should list a connected device with its fields while its row exists, and not after it closed', async () => {
  const bob = await registerUser(srv.url, 'bob', 'password-123', "Bob's phone")
  const connectedAt = Date.now() - 5_000
  const id = await addConnectionRow(srv.app.store, bob.sessionId, { nodeId: 'node-a', connectedAt, ip: '198.51.100.4', userAgent: 'Phone/2' })

  const listed = (await devices('?username=bob')).devices
  assert.equal(listed, [
    {
      connection_id: id,
      session_id: bob.sessionId,
      user_id: bob.userId,
      username: 'bob',
      device_name: "Bob's phone",
      ip: '198.51.100.4',
      user_agent: 'Phone/2',
      connected_at: new Date(connectedAt).toISOString(),
      node_id: 'node-a',
    },
  ])

  await removeConnectionRows(srv.app.store, [id])
  assert.equal((await devices('?username=bob')).devices, [])
})

test('devices › should not list connections held by a dead node', async () => {
  const carol = await registerUser(srv.url, 'carol')
  const live = await addConnectionRow(srv.app.store, carol.sessionId, { nodeId: 'node-live' })
  const dead = await addConnectionRow(srv.app.store, carol.sessionId, { nodeId: 'node-dead', heartbeatAt: Date.now() - 60_000 })
  const ids = (await devices('?username=carol')).devices.map((d) => d.connection_id)
  assert.equal(ids, [live])
  assert.not.ok(ids.includes(dead))
})

test('devices › should filter by username (case-insensitive) and answer 400 INVALID_USERNAME for an impossible one', async () => {
  const dave = await registerUser(srv.url, 'dave')
  const erin = await registerUser(srv.url, 'erin')
  await addConnectionRow(srv.app.store, dave.sessionId)
  await addConnectionRow(srv.app.store, erin.sessionId)
  const daves = (await devices('?username=DAVE')).devices
  assert.is(daves.length, 1)
  assert.is(daves[0].username, 'dave')
  assert.equal((await devices('?username=nobody-here')).devices, [])
  const bad = await request(srv.url, 'GET', '/admin/devices?username=_bad!', { headers: admin })
  assert.is(bad.status, 400)
  assert.is(bad.body.error_info.error_code, 'INVALID_USERNAME')
})

test('devices › should page through every live device exactly once, newest first with ties broken by id', async () => {
  const fred = await registerUser(srv.url, 'fred')
  const base = Date.now() - 60_000
  const ids: { id: string; at: number }[] = []
  for (let i = 0; i < 9; i++) {
    const at = base + Math.floor(i / 3) * 1_000 // three connections share each timestamp
    ids.push({ id: await addConnectionRow(srv.app.store, fred.sessionId, { connectedAt: at }), at })
  }
  const expected = ids.sort((a, b) => b.at - a.at || (a.id < b.id ? 1 : -1)).map((r) => r.id)

  const seen: string[] = []
  const sizes: number[] = []
  let cursor: string | null = null
  do {
    const page: { devices: any[]; next_cursor: string | null } = await devices(`?username=fred&limit=4${cursor ? `&cursor=${cursor}` : ''}`)
    sizes.push(page.devices.length)
    seen.push(...page.devices.map((d) => d.connection_id))
    cursor = page.next_cursor
  } while (cursor && sizes.length < 10)
  assert.equal(sizes, [4, 4, 1])
  assert.equal(seen, expected)
})

test('devices › should answer 400 BAD_REQUEST to a bad limit or a cursor it did not issue', async () => {
  for (const q of [
    'limit=0',
    'limit=-1',
    'limit=abc',
    'limit=1.5',
    'limit=1&limit=2',
    'cursor=not-a-cursor',
    `cursor=${Buffer.from('{"a":1}').toString('base64url')}`,
  ]) {
    const res = await request(srv.url, 'GET', `/admin/devices?${q}`, { headers: admin })
    assert.is(res.status, 400, q)
    assert.is(res.body.error_info.error_code, 'BAD_REQUEST', q)
  }
})

test('devices › should never show a token in the listing', async () => {
  const gina = await registerUser(srv.url, 'gina')
  const second = await login(srv.url, 'gina')
  await addConnectionRow(srv.app.store, gina.sessionId)
  await addConnectionRow(srv.app.store, second.sessionId)
  const text = JSON.stringify(await devices())
  assert.not.ok(text.includes(gina.token))
  assert.not.ok(text.includes(second.token))
  assert.not.ok(/token|hash/i.test(text))
})

test.run()
