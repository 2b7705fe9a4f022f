import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import WebSocketClient, { type WebSocket, WebSocketServer } from 'ws'
import type { ChatgateError } from '../src/client/errors.js'
import { PING_FRAME, revokedFrame, welcomeFrame } from '../src/gateway/frames.js'
import { ChatgateClient as BaseClient } from '../src/client/client.js'
import type { SocketLike } from '../src/client/socket.js'
import { SUBPROTOCOL } from '../src/gateway/subprotocol.js'
import { ChatgateClient, failOnUnhandledRejection, nextEvent } from './helpers/client.js'
import { waitFor } from './helpers/wait-for.js'

/**
 * Every code of the close-code table, and answers a real chatgate never gives (not JSON, unknown
 * frames, a lost close frame), from a scripted server: real HTTP and WebSocket on port 0, with the
 * frames encoded by the gateway's own encoders. The rows a real server can produce are proven
 * against one in test/client-reconnect.test.ts.
 */
interface Script {
  /** Refuse the upgrade with this status; else accept. */
  refuse?: number
  /** The refusal's own Retry-After header. */
  refuseRetryAfter?: string
  /** The `GET /session` probe's answer. */
  probe?: { status: number; retryAfter?: string }
  onSocket?: (ws: WebSocket) => void
}
let script: Script = {}
let upgrades: number[] = []
let probes: number[] = []
let server: Server
let base = ''
const unhandled = failOnUnhandledRejection()

const welcome = (heartbeatMs = 30_000) =>
  welcomeFrame({ connectionId: `c${upgrades.length}`, sessionId: 's', userId: 'u', username: 'ann', heartbeatMs, devices: [] })

test.before(async () => {
  const wss = new WebSocketServer({ noServer: true })
  server = createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/session') probes.push(performance.now())
    const { status, retryAfter } = script.probe ?? { status: 200 }
    res.writeHead(status, { 'content-type': 'application/json', ...(retryAfter ? { 'retry-after': retryAfter } : {}) })
    res.end(
      status === 200
        ? '{"error":false,"error_info":null,"result":{"session":{},"devices":[]}}'
        : `{"error":true,"error_info":{"error_code":"X${status}","description":"no"},"result":null}`,
    )
  })
  server.on('upgrade', (req, socket, head) => {
    upgrades.push(performance.now())
    // The SDK may reset a refused socket before reading the answer (seen under load): not a test failure.
    socket.on('error', () => socket.destroy())
    if (script.refuse) {
      const retry = script.refuseRetryAfter ? `retry-after: ${script.refuseRetryAfter}\r\n` : ''
      socket.end(`HTTP/1.1 ${script.refuse} No\r\n${retry}content-length: 0\r\nconnection: close\r\n\r\n`)
      return
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.send(welcome())
      script.onSocket?.(ws)
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
test.after(async () => {
  server.closeAllConnections()
  await new Promise((r) => server.close(r))
  assert.equal(unhandled, [])
})
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const clients: BaseClient[] = []
function client(baseMs = 20) {
  const c = new ChatgateClient({ baseUrl: base, reconnect: { baseMs } })
  c.restore({ username: 'ann', token: 'tok' })
  clients.push(c)
  return c
}
/** A client whose transport, like a browser's, cannot see a refused upgrade's answer (only 1006). */
function blindClient(baseMs = 20) {
  const c = new BaseClient(
    { baseUrl: base, reconnect: { baseMs } },
    {
      openSocket: (url, { token, username }) =>
        new WebSocketClient(url, [SUBPROTOCOL], { headers: { Token: token, Username: username } }) as unknown as SocketLike,
    },
  )
  c.restore({ username: 'ann', token: 'tok' })
  clients.push(c)
  return c
}
test.before.each(() => {
  script = {}
  upgrades = []
  probes = []
})
// A failed test must not leave a client reconnecting into the next one, nor a probe in flight.
test.after.each(async () => {
  for (const c of clients.splice(0)) {
    try {
      c.connect().close()
    } catch {
      // no credentials left: nothing open
    }
  }
  await sleep(100)
})

for (const code of [1001, 1006, 1008, 1011, 4000, 4499, 1012]) {
  test(`close table › ${code} should reconnect with backoff`, async () => {
    script.onSocket = (ws) => (code === 1006 ? ws.terminate() : ws.close(code))
    const conn = client().connect()
    await waitFor(() => upgrades.length >= 3, 5_000, 'three upgrades')
    assert.is(conn.state === 'ended', false)
    assert.is(probes.length, 0, 'an open socket that closes is no refusal: no probe')
    conn.close()
  })
}

const TERMINAL: [number, string, boolean][] = [
  [4500, 'replaced', false],
  [4501, 'revoked', true],
  [4502, 'expired', true],
  [1007, 'protocol', false],
  [1009, 'protocol', false],
  [4600, 'revoked', true],
  [1000, 'closed', false],
]
for (const [code, reason, drops] of TERMINAL) {
  test(`close table › ${code} should stop with ${reason}${drops ? ' and drop the credentials' : ''}`, async () => {
    script.onSocket = (ws) => ws.close(code)
    const c = client()
    const conn = c.connect()
    assert.equal(await nextEvent(conn, 'ended'), { reason, code })
    await sleep(300) // a reconnect would come within 20 ms
    assert.is(upgrades.length, 1)
    assert.is(c.credentials === null, drops)
  })
}

test('close table › a revoked frame followed by a lost close frame (1006) should still stop as revoked', async () => {
  script.onSocket = (ws) => {
    ws.send(revokedFrame('SESSION_REVOKED'))
    setTimeout(() => ws.terminate(), 20)
  }
  const c = client()
  assert.equal(await nextEvent(c.connect(), 'ended'), { reason: 'revoked', code: 4501 })
  await sleep(300)
  assert.is(upgrades.length, 1)
})

test('close table › blind to the refusal (a browser): a probe that says 503 Retry-After should make it wait that long, one probe per refusal', async () => {
  script = { refuse: 503, probe: { status: 503, retryAfter: '1' } }
  const conn = blindClient().connect()
  await waitFor(() => upgrades.length >= 2, 5_000, 'the second upgrade')
  assert.ok(probes.length >= 1, 'the refusal was probed')
  const waited = upgrades[1]! - probes[0]!
  assert.ok(waited >= 950, `waited ${waited} ms, Retry-After said 1 s`)
  script = {}
  await nextEvent(conn, 'welcome')
  assert.is(probes.length, upgrades.length - 1, `one probe per refused upgrade: ${JSON.stringify({ upgrades, probes })}`)
  conn.close()
})

test('close table › blind to the refusal (a browser): a probe that says 429 Retry-After should make it wait that long', async () => {
  script = { refuse: 429, probe: { status: 429, retryAfter: '1' } }
  const conn = blindClient().connect()
  await waitFor(() => upgrades.length >= 2, 5_000, 'the second upgrade')
  assert.ok(upgrades[1]! - probes[0]! >= 950)
  conn.close()
})

test('close table › blind to the refusal (a browser): a probe that succeeds should make it back off and try again, never ending', async () => {
  script = { refuse: 409 }
  const conn = blindClient().connect()
  await waitFor(() => upgrades.length >= 3, 5_000, 'three upgrades')
  assert.is(conn.state, 'reconnecting')
  conn.close()
  await sleep(100)
  assert.ok(probes.length >= 2 && probes.length <= upgrades.length, `${probes.length} probes for ${upgrades.length} refusals`)
})

for (const status of [503, 429]) {
  test(`close table › in Node, an upgrade refused ${status} with Retry-After should wait that long, with no GET /session probe`, async () => {
    script = { refuse: status, refuseRetryAfter: '1', probe: { status: 500 } }
    const conn = client().connect()
    await waitFor(() => upgrades.length >= 2, 5_000, 'the second upgrade')
    const waited = upgrades[1]! - upgrades[0]!
    assert.ok(waited >= 950, `waited ${waited} ms, Retry-After said 1 s`)
    assert.is(probes.length, 0, 'the status was read from the refusal itself')
    script = {}
    await nextEvent(conn, 'welcome')
    assert.is(probes.length, 0)
    conn.close()
  })
}

test('close table › in Node, an upgrade refused 401 should end unauthorized and drop the credentials, with no probe and no second attempt', async () => {
  script = { refuse: 401, probe: { status: 200 } }
  const c = client()
  const conn = c.connect()
  assert.equal(await nextEvent(conn, 'ended'), { reason: 'unauthorized', code: 1006 })
  assert.is(c.credentials, null)
  await sleep(300) // a reconnect would come within 20 ms
  assert.is(upgrades.length, 1)
  assert.is(probes.length, 0)
})

test('close table › in Node, an upgrade refused with another status (409) should back off and try again, never ending, with no probe', async () => {
  script = { refuse: 409, probe: { status: 401 } }
  const conn = client().connect()
  await waitFor(() => upgrades.length >= 3, 5_000, 'three upgrades')
  assert.is(conn.state, 'reconnecting')
  conn.close()
  assert.is(probes.length, 0)
})

test('close table › in Node, a refused upgrade without Retry-After should fall back to the jittered backoff', async () => {
  script = { refuse: 503 }
  const conn = client().connect()
  await waitFor(() => upgrades.length >= 3, 5_000, 'three upgrades within the 20 ms backoff, not a Retry-After wait')
  assert.is(probes.length, 0)
  conn.close()
})

test('close table › frames the SDK does not understand should be error events, the socket staying open', async () => {
  script.onSocket = (ws) => {
    for (const f of ['not json', '{"type":"mystery"}', '[1]', 'null', '{"type":"error","error_code":"UNKNOWN_TYPE"}']) ws.send(f)
    ws.send(Buffer.from([1, 2, 3]), { binary: true })
    ws.send('{"type":"event","data":{"still":"here"}}')
  }
  const conn = client().connect()
  const errors: string[] = []
  conn.on('error', (e: ChatgateError) => errors.push(e.code))
  const data = await nextEvent(conn, 'event')
  assert.equal(data, { still: 'here' })
  assert.equal(errors, ['BAD_FRAME', 'UNKNOWN_FRAME', 'UNKNOWN_FRAME', 'BAD_FRAME', 'UNKNOWN_TYPE', 'BAD_FRAME'])
  assert.is(conn.state, 'open')
  conn.close()
})

test('close table › the client should send ping frames every heartbeat period of the welcome', async () => {
  const pings: number[] = []
  script.onSocket = (ws) => {
    ws.send(welcome(100))
    ws.on('message', (m) => String(m) === PING_FRAME && pings.push(performance.now()))
  }
  const conn = client().connect()
  await waitFor(() => pings.length >= 3, 3_000, 'three pings')
  conn.close()
})

test.run()
