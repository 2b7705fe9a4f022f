// What the gateway reports about real handshakes and sockets: its metrics and its log lines.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { registerUser, request } from './helpers/http.js'
import { startServer, type TestServer } from './helpers/server.js'
import { connectOk, waitFor } from './helpers/ws.js'

let srv: TestServer
test.before(async () => {
  srv = await startServer()
})
test.after(async () => {
  await srv.close()
})

test('gateway › should move the handshake and connection metrics on a real handshake and a refusal', async () => {
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

test('gateway › should log handshake refusals and socket open/close without any token', async () => {
  const u = await registerUser(srv.url, 'live-gina')
  const { connect } = await import('./helpers/ws.js')
  await connect(srv.url, { protocols: ['chatgate.v1', `token.${u.token}`, 'username.live-gina'], headers: { Origin: 'https://evil.example' } })
  const { client } = await connectOk(srv.url, { protocols: ['chatgate.v1', `token.${u.token}`, 'username.live-gina'] })
  await client.close()
  await waitFor(() => srv.logs.some((l) => l.includes('"event":"ws_close"')), 5_000, 'the close log line')
  const all = srv.logs.join('')
  assert.ok(all.includes('"event":"ws_refused"'), 'a refusal was logged')
  assert.ok(all.includes('"event":"ws_open"'), 'an open was logged')
  assert.not.ok(all.includes(u.token), 'no log line holds the token')
})

test.run()
