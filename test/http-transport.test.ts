import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { readJson } from '../src/http/body.js'
import { assertNullptrError } from './helpers/envelopes.js'
import { registerUser, request } from './helpers/http.js'
import { bodyOf, openRaw, responseCount, statusOf } from './helpers/raw-socket.js'
import { startServer, type TestServer } from './helpers/server.js'
import { waitFor, within } from './helpers/wait-for.js'

// ── slow and idle clients: a server with short timeouts ──

const slow = suite('http timeouts')
let tight: TestServer

slow.before(async () => {
  tight = await startServer({
    HTTP_HEADERS_TIMEOUT_MS: '600',
    HTTP_REQUEST_TIMEOUT_MS: '1500',
    HTTP_KEEPALIVE_TIMEOUT_MS: '300',
    HTTP_MAX_REQUESTS_PER_SOCKET: '3',
  })
})
slow.after(async () => {
  await tight.close()
})

slow('http › should cut off a client that sends its headers one byte at a time', async () => {
  const raw = await openRaw(tight.port)
  await raw.write('GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ')
  const drip = setInterval(() => void raw.write('a'), 100)
  try {
    // Other clients are served while the slow one holds its socket.
    assert.is((await request(tight.url, 'GET', '/healthz')).status, 200)
    const { afterMs } = await within(raw.closed, 5000, 'the slow-header client to be cut off')
    assert.ok(afterMs >= 400, `cut off after ${afterMs} ms, before the headers timeout`)
    assert.is.not(statusOf(raw.received()), 200)
  } finally {
    clearInterval(drip)
    raw.destroy()
  }
})

slow('http › should cut off a client that connects and never sends a byte', async () => {
  const raw = await openRaw(tight.port)
  try {
    await within(raw.closed, 5000, 'the silent client to be cut off')
    assert.is(raw.received(), '')
  } finally {
    raw.destroy()
  }
})

slow('http › should cut off a client that trickles its body past the request timeout', async () => {
  const raw = await openRaw(tight.port)
  await raw.write('POST /session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{')
  const drip = setInterval(() => void raw.write(' '), 100)
  try {
    const { afterMs } = await within(raw.closed, 10_000, 'the slow-body client to be cut off')
    assert.ok(afterMs >= 1000, `cut off after ${afterMs} ms, before the request timeout`)
    assert.is(statusOf(raw.received()), null, 'a request that never arrived in full must not be answered')
  } finally {
    clearInterval(drip)
    raw.destroy()
  }
})

slow('http › should close an idle keep-alive connection after the keep-alive timeout', async () => {
  const raw = await openRaw(tight.port)
  try {
    await raw.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n')
    await waitFor(() => responseCount(raw.received()) === 1, 3000, 'the first response')
    const answeredAt = Date.now()
    await within(raw.closed, 3000, 'the idle keep-alive connection to close')
    assert.ok(Date.now() - answeredAt >= 200, 'closed before the keep-alive timeout')
  } finally {
    raw.destroy()
  }
})

slow('http › should close a connection after its maximum number of requests', async () => {
  const raw = await openRaw(tight.port)
  try {
    for (let i = 1; i <= 3; i++) {
      await raw.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n')
      await waitFor(() => responseCount(raw.received()) === i, 3000, `response ${i}`)
    }
    const heads = raw.received().split('HTTP/1.1 ').slice(1)
    assert.match(heads[0]!, /connection: keep-alive/i)
    assert.match(heads[2]!, /connection: close/i)
    await within(raw.closed, 3000, 'the connection to close after its last request')
  } finally {
    raw.destroy()
  }
})

slow.run()

// ── malformed and hostile requests: a server with the default limits ──

const bad = suite('http input')
let srv: TestServer

bad.before(async () => {
  srv = await startServer()
})
bad.after(async () => {
  await srv.close()
})

/** Sends raw request bytes and resolves with everything received once the server closes. */
async function exchange(bytes: string | Buffer, ms = 5000): Promise<string> {
  const raw = await openRaw(srv.port)
  try {
    await raw.write(bytes)
    await within(raw.closed, ms, 'the server to answer and close')
    return raw.received()
  } finally {
    raw.destroy()
  }
}

function assertRawError(text: string, status: number, code: string): void {
  assert.is(statusOf(text), status, text.slice(0, 200))
  const body = bodyOf(text)
  assert.equal(body, { error: true, error_info: { error_code: code, description: body.error_info.description }, result: null })
}

bad('http › should refuse oversized headers with 400 BAD_REQUEST in the envelope and close', async () => {
  const text = await exchange(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20 * 1024)}\r\n\r\n`)
  assertRawError(text, 400, 'BAD_REQUEST')
  assert.match(text, /connection: close/i)
})

bad('http › should refuse a header value holding a C0 control character with the envelope', async () => {
  const text = await exchange(Buffer.from('GET /healthz HTTP/1.1\r\nHost: x\r\nUser-Agent: a\x01b\r\nConnection: close\r\n\r\n', 'latin1'))
  assertRawError(text, 400, 'BAD_REQUEST')
})

bad('http › should refuse a header value holding a C1 control character and create no session', async () => {
  const user = await registerUser(srv.url, 'c1-user')
  const body = JSON.stringify({ username: 'c1-user', password: 'password-123' })
  const head = `POST /session HTTP/1.1\r\nHost: x\r\nUser-Agent: evil\x9b31mterm\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`
  const text = await exchange(Buffer.from(head + body, 'latin1'))
  assertRawError(text, 400, 'BAD_REQUEST')
  assert.is((await srv.app.sessions.listSessions(user.userId)).length, 1)
})

bad('http › should refuse duplicate Token or Username headers with 400', async () => {
  const user = await registerUser(srv.url, 'dup-user')
  const get = (headers: string) => exchange(`GET /session HTTP/1.1\r\nHost: x\r\n${headers}Connection: close\r\n\r\n`)
  assert.is(statusOf(await get(`Token: ${user.token}\r\nUsername: dup-user\r\n`)), 200)
  assertRawError(await get(`Token: ${user.token}\r\nToken: ${user.token}\r\nUsername: dup-user\r\n`), 400, 'BAD_REQUEST')
  assertRawError(await get(`Token: ${user.token}\r\nUsername: dup-user\r\nUsername: dup-user\r\n`), 400, 'BAD_REQUEST')
})

bad('http › should refuse a token in the query string without reading it', async () => {
  const user = await registerUser(srv.url, 'query-user')
  const res = await request(srv.url, 'GET', `/session?token=${user.token}`, { headers: { Username: 'query-user' } })
  assertNullptrError(res, 400, 'BAD_REQUEST')
})

bad('http › should answer 413 to a declared huge body and close without reading the rest', async () => {
  const raw = await openRaw(srv.port)
  try {
    await raw.write(`POST /session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 50000000\r\n\r\n{"username":"`)
    // The client sends no more: a server that drains the declared 50 MB would wait here for the request timeout (30 s).
    await within(raw.closed, 5000, 'the server to close after 413')
    assertRawError(raw.received(), 413, 'PAYLOAD_TOO_LARGE')
    assert.match(raw.received(), /connection: close/i)
  } finally {
    raw.destroy()
  }
})

bad('http › should answer 413 to a chunked body once it passes 16 KiB and close', async () => {
  const raw = await openRaw(srv.port)
  try {
    await raw.write('POST /user/register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n')
    const chunk = `{"username":"${'a'.repeat(17 * 1024)}`
    await raw.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`)
    await within(raw.closed, 5000, 'the server to close after 413')
    assertRawError(raw.received(), 413, 'PAYLOAD_TOO_LARGE')
  } finally {
    raw.destroy()
  }
})

bad('http › should close rather than drain a large body sent to a route that reads none', async () => {
  const raw = await openRaw(srv.port)
  try {
    await raw.write('POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10000000\r\n\r\n{')
    await within(raw.closed, 5000, 'the server to close after 405')
    assertRawError(raw.received(), 405, 'METHOD_NOT_ALLOWED')
  } finally {
    raw.destroy()
  }
})

bad('http › should not let __proto__ or constructor keys pollute anything, and still log the user in', async () => {
  await registerUser(srv.url, 'proto-user')
  const before = Object.getOwnPropertyNames(Object.prototype).sort()
  const raw =
    '{"__proto__":{"polluted":"yes","isAdmin":true},"constructor":{"prototype":{"polluted2":"yes"}},' +
    '"username":"proto-user","password":"password-123","device_name":"proto"}'
  const res = await request(srv.url, 'POST', '/session', { raw, headers: { 'content-type': 'application/json' } })
  assert.is(res.status, 200, JSON.stringify(res.body))
  assert.type(res.body.result.session_token, 'string')
  assert.equal(Object.getOwnPropertyNames(Object.prototype).sort(), before)
  assert.is(({} as Record<string, unknown>).polluted, undefined)
  assert.is(({} as Record<string, unknown>).polluted2, undefined)
  assert.is(({} as Record<string, unknown>).isAdmin, undefined)
})

bad.run()

// ── the JSON reader alone, behind a bare node:http server ──

const reader = suite('http json reader')
let echo: Server
let echoUrl = ''

reader.before(async () => {
  echo = createServer(async (req, res) => {
    try {
      const parsed = (await readJson(req)) as Record<string, any>
      const owns = (o: unknown) => (o && typeof o === 'object' ? Object.getOwnPropertyNames(o) : [])
      res.end(JSON.stringify({ top: owns(parsed), nested: owns(parsed.a), deep: owns(parsed.a?.b), proto: Object.getPrototypeOf(parsed) === Object.prototype }))
    } catch (e) {
      res.statusCode = 400
      res.end(String(e))
    }
  })
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r))
  echoUrl = `http://127.0.0.1:${(echo.address() as AddressInfo).port}`
})
reader.after(() => new Promise<void>((r) => echo.close(() => r())))

reader('http › should drop __proto__ and constructor keys from parsed bodies at any depth', async () => {
  const raw = '{"__proto__":{"x":1},"constructor":{"prototype":{"y":1}},"a":{"__proto__":{"z":1},"b":{"constructor":{"prototype":{}},"ok":1}},"keep":1}'
  const res = await request(echoUrl, 'POST', '/', { raw, headers: { 'content-type': 'application/json' } })
  assert.is(res.status, 200)
  assert.equal(res.body, { top: ['a', 'keep'], nested: ['b'], deep: ['ok'], proto: true })
})

reader.run()
