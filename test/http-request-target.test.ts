import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { parseRequestTarget } from '../src/request/target.js'
import { authHeaders, backofficeLogin, registerUser, request } from './helpers/http.js'
import { bodyOf, openRaw, statusOf } from './helpers/raw-socket.js'
import { startServer, type TestServer } from './helpers/server.js'
import { connectOk, rawUpgrade, type TestClient } from './helpers/ws.js'

/** Sends one raw request and reads the whole answer (the server closes or we stop after it). */
async function raw(port: number, head: string): Promise<string> {
  const c = await openRaw(port)
  await c.write(head)
  await Promise.race([c.closed, new Promise((r) => setTimeout(r, 1_500))])
  const text = c.received()
  c.destroy()
  return text
}

const target = suite('request target')

target('parse › should keep an origin-form path and its query exactly as sent', () => {
  assert.equal(parseRequestTarget('/a/%6d?x=1&y=%41'), { path: '/a/%6d', query: 'x=1&y=%41' })
  assert.equal(parseRequestTarget('/'), { path: '/', query: '' })
  assert.equal(parseRequestTarget('/admin/../metrics'), { path: '/admin/../metrics', query: '' })
})

target('parse › should serve an absolute-form target as its path', () => {
  assert.equal(parseRequestTarget('http://example.com:8080/healthz?a=b'), { path: '/healthz', query: 'a=b' })
  assert.equal(parseRequestTarget('HTTPS://example.com'), { path: '/', query: '' })
  assert.equal(parseRequestTarget('http://[::1]:80/x'), { path: '/x', query: '' })
})

target('parse › should refuse anything that is not one leading / or absolute-form', () => {
  for (const t of [
    '',
    '*',
    '//',
    '//a:b',
    '//x/metrics',
    '/\\',
    '/\\x',
    'metrics',
    '/a b',
    '/%',
    '/%zz',
    '/%4',
    '/a#b',
    '/ä',
    'ftp://h/x',
    'http://',
    'http:///x',
    '/x?q=\\',
  ])
    assert.is(parseRequestTarget(t), null, JSON.stringify(t))
})

const wire = suite('http › request targets')
let server: TestServer
let open: TestClient

wire.before(async () => {
  server = await startServer()
  const alice = await registerUser(server.url, 'alice')
  open = (await connectOk(server.url, { token: alice.token, username: alice.username })).client
})
wire.after(async () => {
  await open.close()
  await server.close()
})

wire('http › should answer 400 in the nullptr envelope to malformed targets and keep serving', async () => {
  for (const t of ['//', '/\\', '//a:b', '*', '/%zz', '//x/metrics']) {
    const text = await raw(server.port, `GET ${t} HTTP/1.1\r\nHost: x\r\n\r\n`)
    assert.is(statusOf(text), 400, `${t}: ${text.slice(0, 80)}`)
    assert.is(bodyOf(text).error_info.error_code, 'BAD_REQUEST', t)
  }
  const options = await raw(server.port, 'OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n')
  assert.is(statusOf(options), 400)
  assert.is((await request(server.url, 'GET', '/healthz')).status, 200)
  await open.roundTrip()
})

wire('http › should serve an absolute-form target as its path', async () => {
  const text = await raw(server.port, `GET http://127.0.0.1:${server.port}/healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`)
  assert.is(statusOf(text), 200)
  assert.match(text, '{"ok":true}')
})

wire('http › should never reach a route through escapes, dot segments or doubled slashes', async () => {
  for (const t of ['/%6detrics', '/admin/../metrics', '/./metrics', '/healthz/../metrics', '/%68ealthz']) {
    const text = await raw(server.port, `GET ${t} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`)
    assert.is(statusOf(text), 404, `${t}: ${text.slice(0, 80)}`)
    assert.not.match(text, /chatgate_connections/)
  }
})

wire('http › should percent-decode a route parameter once', async () => {
  await registerUser(server.url, 'bob')
  const admin = await backofficeLogin(server.url)
  const res = await request(server.url, 'POST', '/admin/users/%62ob/disable', { headers: authHeaders(admin.token, admin.username) })
  assert.is(res.status, 200)
  assert.is(res.body.result.user.username, 'bob')
  const twice = await request(server.url, 'POST', '/admin/users/%2562ob/disable', { headers: authHeaders(admin.token, admin.username) })
  assert.is(twice.status, 404, '%2562 decodes to %62, not to b')
})

wire('http › should answer a plain GET /ws without an upgrade with 400', async () => {
  const res = await request(server.url, 'GET', '/ws')
  assert.is(res.status, 400)
  assert.is(res.body.error_info.error_code, 'BAD_REQUEST')
})

wire('gateway › should refuse an upgrade with a malformed target (400) and serve an absolute-form one', async () => {
  const bad = await raw(
    server.port,
    'GET //ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
  )
  assert.is(statusOf(bad), 400)
  const absolute = await raw(
    server.port,
    `GET http://127.0.0.1:${server.port}/ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`,
  )
  assert.is(statusOf(absolute), 401, 'reached the credential check of /ws')
})

const backstop = suite('backstop')

/** An error whose message cannot even be read: logging it throws, which no handler expects. */
function hostileError(): Error {
  const e = new Error('x')
  // `stack` first: defining `message` while `stack` is still lazy would read it at once.
  for (const key of ['stack', 'message']) {
    Object.defineProperty(e, key, {
      get() {
        throw new Error('hostile getter')
      },
    })
  }
  return e
}

backstop('backstop › should answer 500 once when an error escapes a request handler, and keep serving', async () => {
  const s = await startServer({}, { deps: { deliverer: { deliver: async () => Promise.reject(hostileError()) } } })
  try {
    const admin = await backofficeLogin(s.url)
    await registerUser(s.url, 'carol')
    const res = await request(s.url, 'POST', '/admin/users/carol/events', { body: { data: 1 }, headers: authHeaders(admin.token, admin.username) })
    assert.is(res.status, 500)
    assert.is(res.body.error_info.error_code, 'INTERNAL_ERROR')
    assert.is((await request(s.url, 'GET', '/healthz')).status, 200)
    assert.ok(s.logs.some((l) => l.includes('"event":"backstop"') && l.includes('"site":"request"')))
    const metrics = await request(s.url, 'GET', '/metrics')
    assert.match(metrics.body, /chatgate_unhandled_errors_total\{site="request"\} 1/)
  } finally {
    await s.close()
  }
})

backstop('backstop › should answer 500 when an error escapes the upgrade path, and keep serving', async () => {
  const s = await startServer()
  try {
    const dave = await registerUser(s.url, 'dave')
    s.app.store.findSessionWithDevices = async () => Promise.reject(hostileError())
    const up = await rawUpgrade(s.url, { Token: dave.token, Username: dave.username })
    assert.is(up.status, 500)
    assert.is(up.body.error_info.error_code, 'INTERNAL_ERROR')
    assert.is((await request(s.url, 'GET', '/healthz')).status, 200)
    assert.ok(s.logs.some((l) => l.includes('"event":"backstop"') && l.includes('"site":"upgrade"')))
  } finally {
    await s.close()
  }
})

target.run()
wire.run()
backstop.run()
