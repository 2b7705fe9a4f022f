import { once } from 'node:events'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { WebSocketServer, type WebSocket } from 'ws'
import { dialWire, wireTarget } from '../bench/client/wire.js'

/** A `ws` server whose behaviour each test sets; the wire client must get along with real `ws`. */
let server: Server
let wss: WebSocketServer
let url: string
let onConnection: (ws: WebSocket, headers: Record<string, string | string[] | undefined>) => void = () => {}

test.before(async () => {
  server = createServer()
  wss = new WebSocketServer({ noServer: true })
  server.on('upgrade', (req, socket, head) => {
    if (req.headers.token === 'refuse-me') {
      socket.end(
        'HTTP/1.1 401 Unauthorized\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n{"error":true,"error_info":{"error_code":"UNAUTHORIZED"}}',
      )
      return
    }
    wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws, req.headers))
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/ws`
})
test.after(async () => {
  wss.close()
  await new Promise((r) => server.close(r))
})

const cred = { token: 'tok-123', username: 'alice' }

test('bench wire client › should send Token and Username headers and resolve on the welcome', async () => {
  let seen: Record<string, unknown> = {}
  onConnection = (ws, headers) => {
    seen = headers
    ws.send('{"type":"welcome","connection_id":"c1"}')
  }
  const conn = await dialWire(wireTarget('ws', url), cred)
  assert.is(seen.token, 'tok-123')
  assert.is(seen.username, 'alice')
  assert.ok(conn.latencyMs > 0)
  assert.is(await conn.close(), 1000)
})

test('bench wire client › should report the close code the server chose', async () => {
  onConnection = (ws) => {
    ws.send('{"type":"welcome"}')
    ws.send('{"type":"revoked","reason":"SESSION_REVOKED"}')
    ws.close(4501)
  }
  const conn = await dialWire(wireTarget('ws', url), cred)
  const seen = await conn.closeSeen
  assert.is(seen.code, 4501)
  assert.is(await conn.closed, 4501)
  // The close frame is seen before the TCP connection is gone.
  assert.ok(seen.at <= performance.now())
})

test('bench wire client › should reject a refused upgrade with its status and body', async () => {
  try {
    await dialWire(wireTarget('ws', url), { token: 'refuse-me', username: 'alice' })
    assert.unreachable('a refused upgrade must not resolve')
  } catch (e) {
    assert.match((e as Error).message, /401/)
    assert.match((e as Error).message, /UNAUTHORIZED/)
  }
})

test('bench wire client › should reject a first frame that is not a welcome', async () => {
  onConnection = (ws) => ws.send('{"type":"error","error_code":"BAD_REQUEST"}')
  try {
    await dialWire(wireTarget('ws', url), cred)
    assert.unreachable('a non-welcome frame must not resolve')
  } catch (e) {
    assert.match((e as Error).message, /not a welcome/)
  }
})

test('bench wire client › should answer pings with pongs and frames of 126+ bytes intact', async () => {
  let pong: Promise<unknown> = Promise.resolve()
  let echoed: Promise<unknown> = Promise.resolve()
  onConnection = (ws) => {
    ws.send(JSON.stringify({ type: 'welcome', pad: 'x'.repeat(300) }))
    pong = once(ws, 'pong')
    ws.ping('are-you-there')
    echoed = once(ws, 'close')
  }
  const conn = await dialWire(wireTarget('ws', url), cred)
  const [data] = (await pong) as [Buffer]
  assert.is(data.toString(), 'are-you-there')
  await conn.close()
  const [code] = (await echoed) as [number]
  assert.is(code, 1000)
})

test.run()
