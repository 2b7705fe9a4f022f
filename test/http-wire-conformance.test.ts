import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { registerUser } from './helpers/http.js'
import { parseResponses, type WireResponse } from './helpers/http-responses.js'
import { openRaw } from './helpers/raw-socket.js'
import { startServer, type TestServer } from './helpers/server.js'
import { within } from './helpers/wait-for.js'
import { rawUpgrade } from './helpers/ws.js'

// What the fuzz test (test/http-fuzz.test.ts) found on the wire, one focused case each.

let srv: TestServer
let user: { token: string; username: string }

/** Sends raw bytes, waits for the server to close, and reads the answers strictly. */
async function exchange(text: string, head = false): Promise<WireResponse[]> {
  const c = await openRaw(srv.port)
  try {
    await c.write(Buffer.from(text, 'latin1'))
    await within(c.closed, 5_000, 'the server to answer and close')
    const parsed = parseResponses(Buffer.from(c.received(), 'latin1'), { closed: true, bodiless: (n) => head && n === 0 })
    assert.is(parsed.problem, null, `${parsed.problem}: ${JSON.stringify(c.received())}`)
    return parsed.responses
  } finally {
    c.destroy()
  }
}

/** Asserts one answer: `status` with the nullptr envelope of `code`. */
function assertEnvelope(responses: WireResponse[], status: number, code: string): void {
  assert.is(responses.length, 1, JSON.stringify(responses.map((r) => r.status)))
  const [r] = responses
  assert.is(r!.status, status)
  const body = r!.body.length > 0 ? JSON.parse(r!.body.toString()) : null
  assert.is(body?.error_info?.error_code, code, r!.body.toString())
}

const upgradeHead = (host: string) =>
  `GET /ws HTTP/1.1\r\n${host}Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nToken: ${user.token}\r\nUsername: ${user.username}\r\n\r\n`

const host = suite('http › the Host header (RFC 9112 section 3.2)')
host.before(async () => {
  srv = await startServer()
  user = await registerUser(srv.url, 'host-user')
})
host.after(() => srv.close())

host('http › should answer an HTTP/1.1 request without Host with 400 in the envelope', async () => {
  assertEnvelope(await exchange('GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n'), 400, 'BAD_REQUEST')
})

host('http › should refuse two Host fields or a malformed one with 400', async () => {
  for (const fields of ['Host: a\r\nHost: b\r\n', 'Host: a\r\nHOST: a\r\n', 'hOsT: a\r\nHost: \r\n', 'Host: x y\r\n', 'Host: a/b\r\n', 'Host: a:b:c\r\n']) {
    assertEnvelope(await exchange(`GET /healthz HTTP/1.1\r\n${fields}Connection: close\r\n\r\n`), 400, 'BAD_REQUEST')
  }
})

host('http › should serve an empty Host, a host with a port, an IPv6 literal, and HTTP/1.0 without Host', async () => {
  for (const fields of ['Host: \r\n', 'HOST: example.com:8080\r\n', 'Host: [::1]:80\r\n', 'Host: 127.0.0.1\r\n', 'X-Host: a\r\nHost: b\r\n']) {
    const [r] = await exchange(`GET /healthz HTTP/1.1\r\n${fields}Connection: close\r\n\r\n`)
    assert.is(r?.status, 200, fields)
  }
  const [r] = await exchange('GET /healthz HTTP/1.0\r\n\r\n')
  assert.is(r?.status, 200)
})

host('gateway › should refuse an upgrade without Host or with two, before any credential is read', async () => {
  for (const fields of ['', 'Host: a\r\nHost: b\r\n']) assertEnvelope(await exchange(upgradeHead(fields)), 400, 'BAD_REQUEST')
  const ok = await rawUpgrade(srv.url, { Token: user.token, Username: user.username })
  assert.is(ok.status, 101, 'an upgrade with one Host is admitted')
})

host.run()

const head = suite('http › answers to HEAD have no content (RFC 9110 section 9.3.2)')
head.before(async () => {
  srv = await startServer()
  user = await registerUser(srv.url, 'head-user')
})
head.after(() => srv.close())

head('gateway › should refuse a HEAD upgrade with the head alone', async () => {
  for (const target of ['/ws', '/healthz']) {
    const responses = await exchange(`HEAD ${target} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n`, true)
    assert.is(responses.length, 1, `${target}: one answer, no bytes after its head`)
    assert.ok(responses[0]!.status >= 400, target)
  }
})

head.run()

// Node answers these by itself unless told otherwise: a bare 417, or a dropped connection.
const own = suite('http › requests node would answer on its own')
own.before(async () => {
  srv = await startServer()
})
own.after(() => srv.close())

own('http › should serve a request whose Expect it does not know as if the field were absent (RFC 9110 section 10.1.1)', async () => {
  const ask = (target: string) => exchange(`GET ${target} HTTP/1.1\r\nHost: x\r\nExpect: weird\r\nConnection: close\r\n\r\n`)
  const [ok] = await ask('/healthz')
  assert.is(ok?.status, 200)
  assertEnvelope(await ask('/nope'), 404, 'NOT_FOUND')
  assertEnvelope(await ask('*'), 400, 'BAD_REQUEST')
})

own('http › should answer CONNECT with 400 in the envelope instead of dropping the connection', async () => {
  for (const target of ['127.0.0.1:443', '/ws']) {
    assertEnvelope(await exchange(`CONNECT ${target} HTTP/1.1\r\nHost: x\r\n\r\n`), 400, 'BAD_REQUEST')
  }
})

own.run()
