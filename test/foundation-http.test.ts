import { request as httpRequest } from 'node:http'
import { readFileSync } from 'node:fs'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { ApiError, ErrorStatus, type ErrorCode } from '../src/errors.js'
import { errorBody } from '../src/envelope.js'
import { assertDialogramError, assertNullptrError, nullptrResult } from './helpers/envelopes.js'
import { authHeaders, registerUser, request, type Res } from './helpers/http.js'
import { startServer, type TestServer } from './helpers/server.js'

const KiB16 = 16 * 1024

/** Sends a body in pieces with `Transfer-Encoding: chunked` (no Content-Length for the server to check first). */
function sendChunked(base: string, path: string, chunks: string[], contentType = 'application/json'): Promise<Res> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(base + path, { method: 'POST', headers: { 'content-type': contentType, 'transfer-encoding': 'chunked' } }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (d) => (text += d))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text), headers: new Headers(res.headers as Record<string, string>) }))
    })
    // The server may answer 413 and stop reading before every chunk is written.
    req.on('error', reject)
    for (const c of chunks) req.write(c)
    req.end()
  })
}

/** A login body padded with an ignored field to exactly `bytes` bytes. */
function paddedLogin(bytes: number): string {
  const head = '{"username":"nobody-here","password":"password-123","pad":"'
  const tail = '"}'
  return head + 'x'.repeat(bytes - head.length - tail.length) + tail
}

let srv: TestServer

const Body = suite('http › bodies')
Body.before(async () => {
  srv = await startServer()
})
Body.after(async () => {
  await srv.close()
})

Body('should refuse a body without Content-Type application/json with 415 in both dialects', async () => {
  const body = JSON.stringify({ username: 'nobody-here', password: 'password-123' })
  assertNullptrError(await request(srv.url, 'POST', '/session', { raw: body }), 415, 'UNSUPPORTED_MEDIA_TYPE')
  assertNullptrError(await request(srv.url, 'POST', '/session', { raw: body, headers: { 'content-type': 'text/plain' } }), 415, 'UNSUPPORTED_MEDIA_TYPE')
  assertNullptrError(
    await request(srv.url, 'POST', '/user/register', { raw: body, headers: { 'content-type': 'application/jsonp' } }),
    415,
    'UNSUPPORTED_MEDIA_TYPE',
  )
  assertDialogramError(
    await request(srv.url, 'POST', '/api/session', { raw: body, headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
    415,
    'UNSUPPORTED_MEDIA_TYPE',
  )
})

Body('should accept application/json with a charset parameter and in any case', async () => {
  const body = JSON.stringify({ username: 'nobody-here', password: 'password-123' })
  const res = await request(srv.url, 'POST', '/session', { raw: body, headers: { 'content-type': 'Application/JSON; charset=utf-8' } })
  assertNullptrError(res, 401, 'INCORRECT_USERNAME')
})

Body('should process a body of exactly 16 KiB and refuse one byte more with 413', async () => {
  const exact = paddedLogin(KiB16)
  assert.is(Buffer.byteLength(exact), KiB16)
  const ok = await request(srv.url, 'POST', '/session', { raw: exact, headers: { 'content-type': 'application/json' } })
  assertNullptrError(ok, 401, 'INCORRECT_USERNAME')
  const over = await request(srv.url, 'POST', '/session', { raw: paddedLogin(KiB16 + 1), headers: { 'content-type': 'application/json' } })
  assertNullptrError(over, 413, 'PAYLOAD_TOO_LARGE')
})

Body('should refuse a declared 1 MB body with 413 in both dialects', async () => {
  const big = paddedLogin(1024 * 1024)
  assertNullptrError(await request(srv.url, 'POST', '/user/register', { raw: big, headers: { 'content-type': 'application/json' } }), 413, 'PAYLOAD_TOO_LARGE')
  assertDialogramError(await request(srv.url, 'POST', '/api/user', { raw: big, headers: { 'content-type': 'application/json' } }), 413, 'PAYLOAD_TOO_LARGE')
})

Body('should refuse a chunked body that grows past 16 KiB with 413', async () => {
  const chunk = 'x'.repeat(4096)
  const res = await sendChunked(srv.url, '/session', ['{"username":"a","pad":"', chunk, chunk, chunk, chunk, chunk, '"}'])
  assertNullptrError(res, 413, 'PAYLOAD_TOO_LARGE')
})

Body('should process a chunked body of exactly 16 KiB and refuse a chunked one byte longer', async () => {
  const exact = paddedLogin(KiB16)
  const ok = await sendChunked(srv.url, '/session', [exact.slice(0, 10_000), exact.slice(10_000)])
  assertNullptrError(ok, 401, 'INCORRECT_USERNAME')
  const over = paddedLogin(KiB16 + 1)
  assertNullptrError(await sendChunked(srv.url, '/session', [over.slice(0, 10_000), over.slice(10_000)]), 413, 'PAYLOAD_TOO_LARGE')
})

Body('should answer 413 on the declared length alone, before the body arrives', async () => {
  const res = await new Promise<Res>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no answer within 5 s: the server waited for the body')), 5_000)
    const req = httpRequest(
      `${srv.url}/session`,
      { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': String(1024 * 1024) } },
      (r) => {
        let text = ''
        r.setEncoding('utf8')
        r.on('data', (d) => (text += d))
        r.on('end', () => {
          clearTimeout(timer)
          req.destroy()
          resolve({ status: r.statusCode ?? 0, body: JSON.parse(text), headers: new Headers(r.headers as Record<string, string>) })
        })
      },
    )
    req.on('error', () => undefined)
    // Only the first bytes of the declared megabyte are ever sent.
    req.write('{"username":"nobody-here","pad":"')
  })
  assertNullptrError(res, 413, 'PAYLOAD_TOO_LARGE')
})

Body('should refuse malformed JSON with 400 BAD_REQUEST in both dialects', async () => {
  const headers = { 'content-type': 'application/json' }
  for (const raw of ['{"username": "a",', '', 'nul', "{'username': 'a'}", '{"a":1}}']) {
    assertNullptrError(await request(srv.url, 'POST', '/session', { raw, headers }), 400, 'BAD_REQUEST')
    assertDialogramError(await request(srv.url, 'POST', '/api/session', { raw, headers }), 400, 'BAD_REQUEST')
  }
})

Body('should refuse wrong field types and missing fields with 400 BAD_REQUEST', async () => {
  const bodies: unknown[] = [
    { username: 123, password: 'password-123' },
    { username: 'someone', password: null },
    { username: 'someone', password: 'password-123', device_name: 5 },
    { username: 'someone' },
    ['someone', 'password-123'],
    'someone',
    null,
    42,
  ]
  for (const body of bodies) {
    assertNullptrError(await request(srv.url, 'POST', '/session', { body }), 400, 'BAD_REQUEST')
    assertNullptrError(await request(srv.url, 'POST', '/user/register', { body }), 400, 'BAD_REQUEST')
  }
  assertDialogramError(await request(srv.url, 'POST', '/api/session', { body: { email: ['a@b.c'], password: 'password-123' } }), 400, 'BAD_REQUEST')
  assertDialogramError(await request(srv.url, 'POST', '/api/user', { body: { nickName: 'ok-name', password: 'password-123' } }), 400, 'BAD_REQUEST')
  assertDialogramError(
    await request(srv.url, 'POST', '/api/user', { body: { nickName: 'ok-name', email: 'a@b.co', password: 'password-123', profile: 'x' } }),
    400,
    'BAD_REQUEST',
  )
})

Body('should ignore unknown fields, including a role or a __proto__ asking for admin', async () => {
  const res = await request(srv.url, 'POST', '/user/register', {
    raw: '{"username":"sneaky","password":"password-123","role":"admin","disabled":true,"__proto__":{"role":"admin"},"constructor":{"prototype":{"role":"admin"}}}',
    headers: { 'content-type': 'application/json' },
  })
  const r = nullptrResult(res, 201)
  const user = await srv.app.store.findUserByUsername('sneaky')
  assert.is(user?.role, 'user')
  assert.is(user?.disabled, false)
  assert.is(({} as { role?: string }).role, undefined, 'Object.prototype must not be polluted')
  // A user account may not open a backoffice session, whatever it sent at registration.
  const bo = await request(srv.url, 'POST', '/api/backoffice/session', { body: { username: 'sneaky', password: 'password-123' } })
  assertDialogramError(bo, 403, 'FORBIDDEN')
  assert.is(r.user_id, user?.id)
})

const Routing = suite('http › routing')
Routing.before(async () => {
  srv = await startServer()
})
Routing.after(async () => {
  await srv.close()
})

Routing('should answer an unknown path with 404 in the nullptr envelope', async () => {
  for (const path of ['/', '/nope', '/user', '/session/a/b', '/user/register/extra']) {
    assertNullptrError(await request(srv.url, 'GET', path), 404, 'NOT_FOUND')
  }
  assertNullptrError(await request(srv.url, 'POST', '/nope', { body: {} }), 404, 'NOT_FOUND')
})

Routing('should answer an unknown /api path with 404 in the Dialogram envelope', async () => {
  for (const path of ['/api', '/api/', '/api/nope', '/api/session/extra', '/api/backoffice']) {
    assertDialogramError(await request(srv.url, 'GET', path), 404, 'NOT_FOUND')
  }
})

Routing('should answer a wrong method with 405, the nullptr envelope and an Allow header', async () => {
  const put = await request(srv.url, 'PUT', '/session')
  assertNullptrError(put, 405, 'METHOD_NOT_ALLOWED')
  assert.equal(put.headers.get('allow')?.split(', ').sort(), ['DELETE', 'GET', 'POST'])
  const patch = await request(srv.url, 'PATCH', '/user/register')
  assertNullptrError(patch, 405, 'METHOD_NOT_ALLOWED')
  assert.is(patch.headers.get('allow'), 'POST')
  const get = await request(srv.url, 'GET', '/user/password')
  assertNullptrError(get, 405, 'METHOD_NOT_ALLOWED')
  assert.is(get.headers.get('allow'), 'PUT')
  const post = await request(srv.url, 'POST', '/user/checkUsername', { body: {} })
  assertNullptrError(post, 405, 'METHOD_NOT_ALLOWED')
  assert.is(post.headers.get('allow'), 'GET')
})

Routing('should answer a wrong method on /api with 405, the Dialogram envelope and an Allow header', async () => {
  for (const path of ['/api/session', '/api/user', '/api/backoffice/session']) {
    const res = await request(srv.url, 'GET', path)
    assertDialogramError(res, 405, 'METHOD_NOT_ALLOWED')
    assert.is(res.headers.get('allow'), 'POST')
  }
  assertDialogramError(await request(srv.url, 'DELETE', '/api/session'), 405, 'METHOD_NOT_ALLOWED')
})

Routing('should refuse a token query parameter with 400, even next to valid headers, and never log it', async () => {
  const u = await registerUser(srv.url, 'query-user')
  const secret = 'QUERY_SECRET_0123456789abcdefghijklmnop'
  const withQuery = await request(srv.url, 'GET', `/session?token=${secret}`, { headers: authHeaders(u.token, u.username) })
  assertNullptrError(withQuery, 400, 'BAD_REQUEST')
  assertNullptrError(await request(srv.url, 'GET', `/session?Token=${secret}&username=query-user`), 400, 'BAD_REQUEST')
  assertNullptrError(await request(srv.url, 'GET', `/session?x=1&TOKEN=${secret}`), 400, 'BAD_REQUEST')
  assertNullptrError(await request(srv.url, 'GET', `/session?token=`, { headers: authHeaders(u.token, u.username) }), 400, 'BAD_REQUEST')
  assertNullptrError(
    await request(srv.url, 'POST', `/session?token=${secret}`, { body: { username: 'query-user', password: 'password-123' } }),
    400,
    'BAD_REQUEST',
  )
  assertDialogramError(await request(srv.url, 'POST', `/api/session?token=${secret}`, { body: {} }), 400, 'BAD_REQUEST')
  assertNullptrError(await request(srv.url, 'GET', `/healthz?token=${secret}`), 400, 'BAD_REQUEST')
  // The same call without the parameter works: the refusal is about the URL alone.
  nullptrResult(await request(srv.url, 'GET', '/session', { headers: authHeaders(u.token, u.username) }))
  assert.not.ok(
    srv.logs.some((line) => line.includes(secret)),
    'the query token must not reach a log line',
  )
  // The refused login in the URL case must not have created a session.
  const sessions = await srv.app.sessions.listSessions(u.userId)
  assert.is(sessions.length, 1)
})

Routing('should answer /healthz with 200 {"ok":true}', async () => {
  const res = await request(srv.url, 'GET', '/healthz')
  assert.is(res.status, 200)
  assert.equal(res.body, { ok: true })
})

Routing('should mark every JSON response no-store and nosniff', async () => {
  const err = await request(srv.url, 'GET', '/nope')
  assert.is(err.headers.get('cache-control'), 'no-store')
  assert.is(err.headers.get('x-content-type-options'), 'nosniff')
  const u = await registerUser(srv.url, 'store-user')
  const ok = await request(srv.url, 'GET', '/session', { headers: authHeaders(u.token, u.username) })
  assert.is(ok.headers.get('cache-control'), 'no-store')
})

const Codes = suite('http › error codes')

Codes('should map every error code of the contract to its status, and invent no code the contract lacks', () => {
  const contract = readFileSync(new URL('../docs/API.md', import.meta.url), 'utf8')
  const line = /^\* Error code → status, everywhere:([\s\S]*?)Every error response/m.exec(contract)?.[1]
  assert.ok(line, 'docs/API.md must keep the error-code table')
  const expected: Record<string, number> = {}
  for (const [, codes, status] of line.matchAll(/((?:`[A-Z_]+`(?:,\s*)?)+)\s+(\d{3})/g)) {
    for (const [, code] of codes!.matchAll(/`([A-Z_]+)`/g)) expected[code!] = Number(status)
  }
  const table = Object.fromEntries(Object.keys(expected).map((code) => [code, (ErrorStatus as Record<string, number>)[code]]))
  assert.equal(table, expected)
  // Codes outside the HTTP table (e.g. WebSocket-only ones) must still be named by the contract.
  for (const code of Object.keys(ErrorStatus).filter((c) => !(c in expected))) {
    assert.ok(contract.includes(`\`${code}\``), `${code} is not in docs/API.md`)
  }
})

Codes('should build both envelopes for every code from the one ApiError', () => {
  for (const code of Object.keys(ErrorStatus) as ErrorCode[]) {
    const e = new ApiError(code)
    assert.is(e.status, ErrorStatus[code])
    assert.equal(errorBody('nullptr', e.code, e.status, e.message), {
      error: true,
      error_info: { error_code: code, description: e.message },
      result: null,
    })
    assert.equal(errorBody('dialogram', e.code, e.status, e.message), {
      errors: [{ status: String(ErrorStatus[code]), code, title: e.message }],
    })
    assert.ok(e.message.length > 0 && e.message !== code, `${code} needs a description`)
  }
})

Body.run()
Routing.run()
Codes.run()
