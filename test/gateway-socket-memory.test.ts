import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { GatewaySocket } from '../src/gateway/connection.js'
import { registerUser } from './helpers/http.js'
import { startServer, type TestServer } from './helpers/server.js'
import { connectOk, waitFor } from './helpers/ws.js'

// What an idle gateway socket keeps beyond ws's own (bench scenario 2 counts it per connection):
// no listeners of its own on the WebSocket, no cached copy of the peer's address, and no emptied
// read queue's backing store once a frame is parsed.

let srv: TestServer
test.before(async () => {
  srv = await startServer()
})
test.after(async () => {
  await srv.close()
})

/** The server side of the one live connection. */
function serverSocket(): GatewaySocket {
  const conns = [...srv.app.gateway.registry.values()]
  assert.is(conns.length, 1)
  return conns[0]!.ws as GatewaySocket
}

test('gateway › should keep no listener of its own on an accepted socket, and still handle its message, pong and close', async () => {
  const s = await registerUser(srv.url, 'mem-listeners')
  const { client } = await connectOk(srv.url, { token: s.token, username: s.username })
  const ws = serverSocket()
  for (const event of ['message', 'pong', 'error', 'close']) assert.is(ws.listenerCount(event), 0, `listeners for ${event}`)

  // message: an application ping is answered
  client.ws.send(JSON.stringify({ type: 'ping' }))
  assert.is((await client.nextOfType('pong')).type, 'pong')
  // pong: a heartbeat ping answered by the client resets the count of missed pings
  const conn = ws.conn!
  conn.missedPings = 2
  ws.ping()
  await waitFor(() => conn.missedPings === 0, 5_000, 'the pong to reach the connection')
  // close: the registry lets go, and a listener added with `once` still hears it
  let heard = 0
  ws.once('close', () => heard++)
  await client.close()
  await waitFor(() => srv.app.gateway.registry.size === 0 && heard === 1, 5_000, 'the close to reach the registry and the listener')
})

test('gateway › should drop the socket’s cached peer address once the upgrade is done, and still tell it when asked', async () => {
  const s = await registerUser(srv.url, 'mem-peer')
  const { client } = await connectOk(srv.url, { token: s.token, username: s.username })
  const socket = (serverSocket() as unknown as { _socket: { _peername?: unknown; remoteAddress?: string } })._socket
  assert.ok('_peername' in socket, "node's net.Socket has no _peername any more: forgetPeerName() drops nothing")
  assert.is(socket._peername, undefined)
  assert.is(serverSocket().conn!.ip, '127.0.0.1')
  assert.is(socket.remoteAddress, '127.0.0.1', 'asked again, the kernel answers')
  await client.close()
})

test('gateway › should empty the read queue’s storage once a pong or a message is parsed, and lose no frame', async () => {
  const s = await registerUser(srv.url, 'mem-queue')
  const { client } = await connectOk(srv.url, { token: s.token, username: s.username })
  const ws = serverSocket()
  const receiver = (ws as unknown as { _receiver: { _buffers: unknown[] } })._receiver
  // The queue ws parses from, watched: every `length = 0` set on it while it was already empty.
  let released = 0
  receiver._buffers = new Proxy(receiver._buffers, {
    set(target, key, value, proxy) {
      if (key === 'length' && value === 0 && target.length === 0) released++
      return Reflect.set(target, key, value, proxy)
    },
  })
  const conn = ws.conn!
  conn.missedPings = 1
  ws.ping()
  await waitFor(() => conn.missedPings === 0, 5_000, 'the pong to reach the connection')
  assert.is(released, 1, 'released after the pong')

  // 40 frames written in one go arrive in fewer chunks than frames: each is still answered.
  for (let i = 0; i < 40; i++) client.ws.send(JSON.stringify({ type: 'ping' }))
  for (let i = 0; i < 40; i++) assert.is((await client.nextOfType('pong')).type, 'pong')
  assert.ok(released >= 2, `released after the messages (${released})`)
  await client.close()
})

test('V8 › setting an emptied array’s length to 0 should free its storage (what the release above relies on)', () => {
  setFlagsFromString('--expose-gc')
  const gc = runInNewContext('gc') as () => void
  // Many, so that what the running test server allocates meanwhile does not count.
  const n = 200_000
  const arrays = Array.from({ length: n }, () => {
    const a: unknown[] = []
    a.push(Buffer.alloc(0))
    a.shift()
    return a
  })
  gc()
  const before = process.memoryUsage().heapUsed
  for (const a of arrays) a.length = 0
  gc()
  const freed = (before - process.memoryUsage().heapUsed) / n
  assert.ok(freed > 100, `freed ${freed.toFixed(0)} bytes per array (152 expected)`)
  assert.is(arrays.length, n)
})

test.run()
