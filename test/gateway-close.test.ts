import type { Socket } from 'node:net'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { registerUser } from './helpers/http.js'
import { startServer, type TestServer } from './helpers/server.js'
import { connectOk, waitFor } from './helpers/ws.js'

// Once both close frames are exchanged, the server closes the TCP connection itself (RFC 6455
// 7.1.1) instead of waiting for the peer's FIN (decision 0356).

let srv: TestServer
test.before(async () => {
  srv = await startServer()
})
test.after(async () => {
  await srv.close()
})

test('gateway close › a client that closes but never sends its FIN should still be let go at once, with a clean 1000', async () => {
  const s = await registerUser(srv.url, 'close-no-fin')
  const { client } = await connectOk(srv.url, { token: s.token, username: s.username })
  // The client's half-close is withheld: its close frame goes out, its FIN never does.
  const socket = (client.ws as unknown as { _socket: Socket })._socket
  socket.end = (() => socket) as Socket['end']
  let serverFin = false
  socket.once('end', () => (serverFin = true))
  const started = performance.now()
  client.ws.close(1000)
  try {
    // Without the server closing first, ws would hold the socket until its 5 s close timer.
    await waitFor(() => srv.app.gateway.registry.size === 0 && serverFin, 1_000, 'the server to let the socket go and send its FIN')
    assert.ok(performance.now() - started < 1_000)
  } finally {
    socket.destroy()
  }
  assert.is((await client.closed).code, 1000)
})

test('gateway close › a server-initiated close should still carry its code and reason to the client', async () => {
  const s = await registerUser(srv.url, 'close-by-server')
  const { client } = await connectOk(srv.url, { token: s.token, username: s.username })
  const conn = [...srv.app.gateway.registry.values()][0]!
  conn.revoke('SESSION_REVOKED')
  const closed = await client.closed
  assert.is(closed.code, 4501)
  assert.is(closed.reason, 'SESSION_REVOKED')
  assert.is((await client.nextOfType('revoked')).reason, 'SESSION_REVOKED')
  await waitFor(() => srv.app.gateway.registry.size === 0, 1_000, 'the registry to let go')
})

test.run()
