import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { addConnectionRow, captureBus, removeConnectionRows } from './helpers/connection-rows.js'
import { authHeaders, login, registerUser, request } from './helpers/http.js'
import { startServer, type TestServer } from './helpers/server.js'

let srv: TestServer

test.before(async () => {
  srv = await startServer()
})
test.after(async () => {
  await srv.close()
})

const myDevices = async (token: string, username: string) => {
  const res = await request(srv.url, 'GET', '/session', { headers: authHeaders(token, username) })
  assert.is(res.status, 200, JSON.stringify(res.body))
  return res.body.result as { session: any; devices: any[] }
}

test('user devices › should show a session online with its connection count while rows exist on a live node', async () => {
  const phone = await registerUser(srv.url, 'hana', 'password-123', 'phone')
  const laptop = await login(srv.url, 'hana', 'password-123', 'laptop')
  const rows = [await addConnectionRow(srv.app.store, phone.sessionId), await addConnectionRow(srv.app.store, phone.sessionId, { nodeId: 'node-b' })]
  await addConnectionRow(srv.app.store, laptop.sessionId, { nodeId: 'node-dead', heartbeatAt: Date.now() - 60_000 })

  const seen = await myDevices(laptop.token, 'hana')
  const byName = Object.fromEntries(seen.devices.map((d) => [d.device_name, d]))
  assert.is(byName.phone.online, true)
  assert.is(byName.phone.connections, 2)
  assert.is(byName.laptop.online, false, 'a connection on a dead node does not count')
  assert.is(byName.laptop.connections, 0)
  assert.is(seen.session.session_id, laptop.sessionId)

  await removeConnectionRows(srv.app.store, rows)
  const after = (await myDevices(laptop.token, 'hana')).devices.find((d) => d.session_id === phone.sessionId)
  assert.is(after.online, false)
  assert.is(after.connections, 0)
})

test('user devices › should revoke one of my own devices, announce it to the gateway and stop listing it', async () => {
  const events = captureBus(srv.app)
  const phone = await registerUser(srv.url, 'ivan', 'password-123', 'phone')
  const laptop = await login(srv.url, 'ivan', 'password-123', 'laptop')
  await addConnectionRow(srv.app.store, phone.sessionId)

  const res = await request(srv.url, 'DELETE', `/session/${phone.sessionId}`, { headers: authHeaders(laptop.token, 'ivan') })
  assert.is(res.status, 200)
  assert.equal(res.body, { error: false, error_info: null, result: {} })
  assert.equal(events, [{ type: 'sessions_revoked', sessionIds: [phone.sessionId], reason: 'revoked_by_user' }])

  const gone = await request(srv.url, 'GET', '/session', { headers: authHeaders(phone.token, 'ivan') })
  assert.is(gone.status, 401)
  const left = (await myDevices(laptop.token, 'ivan')).devices.map((d) => d.session_id)
  assert.equal(left, [laptop.sessionId])
})

test("user devices › should answer 404 for another user's session and leave it live", async () => {
  const events = captureBus(srv.app)
  const judy = await registerUser(srv.url, 'judy')
  const mallory = await registerUser(srv.url, 'mallory')
  const res = await request(srv.url, 'DELETE', `/session/${judy.sessionId}`, { headers: authHeaders(mallory.token, 'mallory') })
  assert.is(res.status, 404)
  assert.is(res.body.error_info.error_code, 'NOT_FOUND')
  assert.equal(events, [])
  assert.is((await myDevices(judy.token, 'judy')).devices.length, 1)
})

test('user devices › should log out this device with reason logout and revoke the others with revoked_by_user', async () => {
  const events = captureBus(srv.app)
  const a = await registerUser(srv.url, 'kate', 'password-123', 'a')
  const b = await login(srv.url, 'kate', 'password-123', 'b')
  const c = await login(srv.url, 'kate', 'password-123', 'c')
  const others = await request(srv.url, 'DELETE', '/session/others', { headers: authHeaders(c.token, 'kate') })
  assert.equal(others.body.result, { revoked: 2 })
  const out = await request(srv.url, 'DELETE', '/session', { headers: authHeaders(c.token, 'kate') })
  assert.is(out.status, 200)
  assert.is(events.length, 2)
  assert.equal(new Set(events[0]!.sessionIds), new Set([a.sessionId, b.sessionId]))
  assert.is(events[0]!.reason, 'revoked_by_user')
  assert.equal(events[1], { type: 'sessions_revoked', sessionIds: [c.sessionId], reason: 'logout' })
})

test.run()
