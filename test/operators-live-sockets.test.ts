// Operators against REAL sockets: what an operator does (CLI, admin API) reaches live devices.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { runCli } from './helpers/cli.js'
import { authHeaders, backofficeLogin, login, registerUser, request } from './helpers/http.js'
import { startServer, type TestServer } from './helpers/server.js'
import { connectOk, waitFor } from './helpers/ws.js'

let srv: TestServer
let admin: Record<string, string>
test.before(async () => {
  srv = await startServer()
  const bo = await backofficeLogin(srv.url)
  admin = authHeaders(bo.token, bo.username)
})
test.after(async () => {
  await srv.close()
})

const deviceIds = async (username: string): Promise<string[]> => {
  const res = await request(srv.url, 'GET', `/admin/devices?username=${username}`, { headers: admin })
  assert.is(res.status, 200)
  return res.body.result.devices.map((d: { connection_id: string }) => d.connection_id)
}

test('operators live › should list a connected device in /admin/devices and the CLI while it is open, and not after it closed', async () => {
  const u = await registerUser(srv.url, 'live-lena', 'password-123', 'lena-phone')
  const { client, welcome } = await connectOk(srv.url, { token: u.token, username: u.username })
  await srv.app.gateway.flush()
  assert.equal(await deviceIds('live-lena'), [welcome.connection_id])
  const cli = await runCli(['devices', '--user', 'live-lena', '--json'], { env: { DATABASE_URL: srv.databaseUrl } })
  assert.is(cli.code, 0, cli.stderr)
  const listed = JSON.parse(cli.stdout)
  const rows = Array.isArray(listed) ? listed : listed.devices
  assert.equal(
    rows.map((d: { connection_id: string }) => d.connection_id),
    [welcome.connection_id],
  )
  assert.is(rows[0].device_name, 'lena-phone')

  await client.close()
  await waitFor(async () => (await deviceIds('live-lena')).length === 0, 5_000, 'the device to leave the listing')
})

test('operators live › should close a socket with 4501 when an operator revokes its session over the admin API', async () => {
  const u = await registerUser(srv.url, 'live-dora')
  const { client } = await connectOk(srv.url, { token: u.token, username: u.username })
  const res = await request(srv.url, 'DELETE', `/admin/sessions/${u.sessionId}`, { headers: admin })
  assert.is(res.status, 200)
  const revoked = await client.nextOfType('revoked')
  assert.is(revoked.reason, 'SESSION_REVOKED')
  assert.is((await client.waitClose()).code, 4501)
})

test('operators live › should close every socket of a user with 4501 when an operator disables the account', async () => {
  const a = await registerUser(srv.url, 'live-edna')
  const b = await login(srv.url, 'live-edna', 'password-123', 'laptop')
  const { client: ca } = await connectOk(srv.url, { token: a.token, username: a.username })
  const { client: cb } = await connectOk(srv.url, { token: b.token, username: b.username })
  const res = await request(srv.url, 'POST', '/admin/users/live-edna/disable', { headers: admin })
  assert.is(res.status, 200)
  assert.is((await ca.waitClose()).code, 4501)
  assert.is((await cb.waitClose()).code, 4501)
})

test.run()
