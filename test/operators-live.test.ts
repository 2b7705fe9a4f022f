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
  await waitFor(async () => (await deviceIds('live-lena')).length === 0, 2_000, 'the device to leave the listing')
})

test('operators live › should close a socket with 4501 within 1 s when the CLI revokes its session on the same database', async () => {
  const u = await registerUser(srv.url, 'live-cleo')
  const other = await login(srv.url, 'live-cleo', 'password-123', 'tablet')
  const { client } = await connectOk(srv.url, { token: u.token, username: u.username })
  const { client: stays } = await connectOk(srv.url, { token: other.token, username: other.username })
  stays.ignore('devices')
  const started = Date.now()
  const r = await runCli(['sessions', 'revoke', u.sessionId], { env: { DATABASE_URL: srv.databaseUrl } })
  assert.is(r.code, 0, r.stderr)
  const cliDone = Date.now()
  const closed = await client.waitClose(3_000)
  assert.is(closed.code, 4501)
  assert.ok(Date.now() - cliDone < 1_000, `closed ${Date.now() - cliDone} ms after the CLI finished (${cliDone - started} ms CLI)`)
  await stays.roundTrip()
  stays.ws.terminate()
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

test('operators live › should move the handshake and connection metrics on a real handshake and a refusal', async () => {
  const metric = async (line: RegExp) => {
    const text = (await request(srv.url, 'GET', '/metrics')).body as string
    return Number(line.exec(text)?.[1] ?? 0)
  }
  const okBefore = await metric(/^chatgate_handshakes_total\{result="ok"\} (\d+)$/m)
  const refusedBefore = await metric(/^chatgate_handshakes_total\{result="unauthorized"\} (\d+)$/m)
  const u = await registerUser(srv.url, 'live-fern')
  const { client } = await connectOk(srv.url, { token: u.token, username: u.username })
  assert.is((await metric(/^chatgate_connections (\d+)$/m)) >= 1, true)
  const { connect } = await import('./helpers/ws.js')
  assert.is((await connect(srv.url, { token: 'x'.repeat(43), username: 'live-fern' })).status, 401)
  assert.is(await metric(/^chatgate_handshakes_total\{result="ok"\} (\d+)$/m), okBefore + 1)
  assert.is(await metric(/^chatgate_handshakes_total\{result="unauthorized"\} (\d+)$/m), refusedBefore + 1)
  await client.close()
})

test('operators live › should log handshake refusals and socket open/close without any token', async () => {
  const u = await registerUser(srv.url, 'live-gina')
  const { connect } = await import('./helpers/ws.js')
  await connect(srv.url, { protocols: ['chatgate.v1', `token.${u.token}`, 'username.live-gina'], headers: { Origin: 'https://evil.example' } })
  const { client } = await connectOk(srv.url, { protocols: ['chatgate.v1', `token.${u.token}`, 'username.live-gina'] })
  await client.close()
  await waitFor(() => srv.logs.some((l) => l.includes('"event":"ws_close"')), 2_000, 'the close log line')
  const all = srv.logs.join('')
  assert.ok(all.includes('"event":"ws_refused"'), 'a refusal was logged')
  assert.ok(all.includes('"event":"ws_open"'), 'an open was logged')
  assert.not.ok(all.includes(u.token), 'no log line holds the token')
})

test.run()
