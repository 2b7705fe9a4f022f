import { RateLimiterMemory } from 'rate-limiter-flexible'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { ConfigError, loadConfig } from '../src/config.js'
import type { LimiterBackend } from '../src/limits/backend.js'
import { authHeaders, backofficeLogin, registerUser, request, type Res } from './helpers/http.js'
import { startServer, type TestServer } from './helpers/server.js'

const APP = 'https://app.example'
const OTHER_APP = 'http://localhost:5173'
const FOREIGN = 'https://evil.example'

/**
 * The user routes of the contract (API.md § 3), both dialects: exactly these may be called
 * cross-origin. Written out here, not derived, so a route added anywhere else (an admin route, a
 * console file) cannot become cross-origin without this list changing too.
 */
const USER_ROUTES = [
  'GET /user/checkUsername',
  'POST /user/register',
  'POST /session',
  'GET /session',
  'DELETE /session',
  'DELETE /session/others',
  'DELETE /session/:session_id',
  'PUT /user/password',
  'POST /api/user',
  'POST /api/session',
].sort()

/** The CORS headers of an answer (and Vary), by lowercase name. */
const corsHeadersOf = (res: { headers: Headers }) =>
  Object.fromEntries([...res.headers].filter(([name]) => name.startsWith('access-control-') || name === 'vary'))

/** Asserts the headers an answer to a listed Origin carries on a user route, and nothing about credentials. */
function assertCrossOrigin(res: Res, origin: string, what: string) {
  assert.equal(
    corsHeadersOf(res),
    { 'access-control-allow-origin': origin, 'access-control-expose-headers': 'Retry-After', vary: 'Origin' },
    `${what} → ${res.status}`,
  )
}

/** Asserts an answer carries no Access-Control-* header at all. */
function assertNoAccessControl(res: { headers: Headers; status: number }, what: string) {
  const names = [...res.headers.keys()].filter((name) => name.startsWith('access-control-'))
  assert.equal(names, [], `${what} → ${res.status}`)
}

/** A CORS preflight as a browser sends it. */
const preflight = (base: string, path: string, origin: string, method: string, requestHeaders = 'content-type, token, username') =>
  request(base, 'OPTIONS', path, {
    headers: { Origin: origin, 'Access-Control-Request-Method': method, 'Access-Control-Request-Headers': requestHeaders },
  })

/** A request path for a route pattern (`:session_id` filled in). */
const concretePath = (pattern: string) => pattern.replace(/:[A-Za-z_]+/g, 'x1')

// ── with ALLOWED_ORIGINS ────────────────────────────────────────────────────────────────────────
const listed = suite<{ srv: TestServer }>('listed')
listed.before(async (ctx) => {
  ctx.srv = await startServer({ ALLOWED_ORIGINS: ` ${APP} ,${OTHER_APP}`, LOGIN_ATTEMPTS_PER_ACCOUNT_PER_MIN: '2' })
})
listed.after(async (ctx) => {
  await ctx.srv?.close()
})

listed('cors › should declare exactly the user routes of both dialects cross-origin', ({ srv }) => {
  const declared = srv.app.routes
    .filter((r) => r.spec.crossOrigin)
    .map((r) => `${r.spec.method} ${r.spec.path}`)
    .sort()
  assert.equal(declared, USER_ROUTES)
})

listed('cors › should grant a preflight on every user route and refuse it on every other route, for a listed Origin', async ({ srv }) => {
  for (const { spec } of srv.app.routes) {
    const key = `${spec.method} ${spec.path}`
    const res = await preflight(srv.url, concretePath(spec.path), APP, spec.method)
    if (USER_ROUTES.includes(key)) {
      assert.is(res.status, 204, key)
      assert.is(res.headers.get('access-control-allow-origin'), APP, key)
    } else {
      assert.is(res.status, 403, `${key}: ${JSON.stringify(res.body)}`)
      assertNoAccessControl(res, key)
    }
  }
})

listed('cors › should answer a preflight with 204, the path methods and the exact headers', async ({ srv }) => {
  const expected: [string, string, string][] = [
    ['/session', 'POST', 'GET, POST, DELETE'],
    ['/session', 'DELETE', 'GET, POST, DELETE'],
    ['/session/others', 'DELETE', 'DELETE'],
    ['/session/abc', 'DELETE', 'DELETE'],
    ['/user/register', 'POST', 'POST'],
    ['/user/checkUsername?username=x', 'GET', 'GET'],
    ['/user/password', 'PUT', 'PUT'],
    ['/api/user', 'POST', 'POST'],
    ['/api/session', 'POST', 'POST'],
  ]
  for (const [path, method, methods] of expected) {
    const res = await preflight(srv.url, path, OTHER_APP, method)
    assert.is(res.status, 204, `${method} ${path}`)
    assert.is(res.body, '', 'a 204 has no body')
    assert.equal(
      corsHeadersOf(res),
      {
        'access-control-allow-origin': OTHER_APP,
        'access-control-allow-methods': methods,
        'access-control-allow-headers': 'Token, Username, Content-Type',
        'access-control-max-age': '600',
        'access-control-expose-headers': 'Retry-After',
        vary: 'Origin',
      },
      `${method} ${path}`,
    )
    assert.is(res.headers.get('access-control-allow-credentials'), null)
  }
})

listed('cors › should carry the CORS headers on every user route of both dialects, successes and errors alike', async ({ srv }) => {
  const o = { Origin: APP }
  const seen: string[] = []
  const call = async (key: string, path: string, status: number, options: { body?: unknown; headers?: Record<string, string> } = {}) => {
    const [method] = key.split(' ')
    const res = await request(srv.url, method!, path, { ...options, headers: { ...o, ...options.headers } })
    assert.is(res.status, status, `${key}: ${JSON.stringify(res.body)}`)
    assertCrossOrigin(res, APP, key)
    seen.push(key)
    return res
  }
  await call('GET /user/checkUsername', '/user/checkUsername?username=corina', 200)
  const reg = await call('POST /user/register', '/user/register', 201, { body: { username: 'corina', password: 'password-123' } })
  const first = authHeaders(reg.body.result.session_token, 'corina')
  const login = await call('POST /session', '/session', 200, { body: { username: 'corina', password: 'password-123' } })
  const second = authHeaders(login.body.result.session_token, 'corina')
  await call('GET /session', '/session', 200, { headers: second })
  await call('PUT /user/password', '/user/password', 200, { headers: second, body: { old_password: 'password-123', new_password: 'password-456' } })
  // The password change revoked the first session: an error answer still carries the headers.
  await call('DELETE /session', '/session', 401, { headers: first })
  // A 404 from inside a route (another user's or an unknown session id).
  await call('DELETE /session/:session_id', '/session/no-such-session', 404, { headers: second })
  await call('DELETE /session/others', '/session/others', 200, { headers: second })
  await call('DELETE /session', '/session', 200, { headers: second })
  await call('POST /api/user', '/api/user', 201, { body: { nickName: 'dora', email: 'dora@example.com', password: 'password-123' } })
  await call('POST /api/session', '/api/session', 201, { body: { email: 'dora@example.com', password: 'password-123' } })
  assert.equal([...new Set(seen)].sort(), USER_ROUTES, 'every user route was called')
})

listed('cors › should let a listed Origin read Retry-After on a 429, in both dialects', async ({ srv }) => {
  await registerUser(srv.url, 'ratty')
  const wrong = { body: { username: 'ratty', password: 'wrong-password' }, headers: { Origin: APP } }
  let res = await request(srv.url, 'POST', '/session', wrong)
  for (let i = 0; i < 5 && res.status !== 429; i++) res = await request(srv.url, 'POST', '/session', wrong)
  assert.is(res.status, 429)
  assert.is(res.body.error_info.error_code, 'RATE_LIMITED')
  assert.ok(Number(res.headers.get('retry-after')) > 0, 'Retry-After is sent')
  assertCrossOrigin(res, APP, 'POST /session 429')
  await request(srv.url, 'POST', '/api/user', { body: { nickName: 'rita', email: 'rita@example.com', password: 'password-123' } })
  const wrongByEmail = { body: { email: 'rita@example.com', password: 'wrong-password' }, headers: { Origin: OTHER_APP } }
  res = await request(srv.url, 'POST', '/api/session', wrongByEmail)
  assert.is(res.status, 401)
  assertCrossOrigin(res, OTHER_APP, 'POST /api/session 401')
  for (let i = 0; i < 5 && res.status !== 429; i++) res = await request(srv.url, 'POST', '/api/session', wrongByEmail)
  assert.is(res.status, 429)
  assert.is(res.body.errors[0].code, 'RATE_LIMITED')
  assert.ok(Number(res.headers.get('retry-after')) > 0, 'Retry-After is sent')
  assertCrossOrigin(res, OTHER_APP, 'POST /api/session 429')
})

listed('cors › should answer a foreign Origin without CORS headers, and refuse its preflight with 403 in the path dialect', async ({ srv }) => {
  const res = await request(srv.url, 'GET', '/user/checkUsername?username=someone', { headers: { Origin: FOREIGN } })
  assert.is(res.status, 200)
  assertNoAccessControl(res, 'GET /user/checkUsername')
  assert.is(res.headers.get('vary'), 'Origin', 'the answer still depends on Origin')
  for (const near of [FOREIGN, `${APP}.evil`, `${APP}/`, 'https://APP.example', 'null', `${APP}, ${FOREIGN}`]) {
    const refused = await preflight(srv.url, '/session', near, 'POST')
    assert.is(refused.status, 403, near)
    assert.is(refused.body.error_info.error_code, 'ORIGIN_NOT_ALLOWED', near)
    assertNoAccessControl(refused, near)
  }
  const dialogram = await preflight(srv.url, '/api/session', FOREIGN, 'POST')
  assert.is(dialogram.status, 403)
  assert.equal(dialogram.body.errors[0].code, 'ORIGIN_NOT_ALLOWED')
})

listed('cors › should never make the admin API, the console, the backoffice login or service routes cross-origin', async ({ srv }) => {
  const admin = await backofficeLogin(srv.url)
  const headers = { Origin: APP, ...authHeaders(admin.token, admin.username) }
  const answered = [
    await request(srv.url, 'GET', '/admin/users', { headers }),
    await request(srv.url, 'GET', '/admin/devices', { headers }),
    await request(srv.url, 'GET', '/admin/nope', { headers }),
    await request(srv.url, 'POST', '/api/backoffice/session', { headers: { Origin: APP }, body: { username: 'admin', password: 'admin-password-123' } }),
    await request(srv.url, 'GET', '/console', { headers: { Origin: APP } }),
    await request(srv.url, 'GET', '/healthz', { headers: { Origin: APP } }),
    await request(srv.url, 'GET', '/openapi.json', { headers: { Origin: APP } }),
  ]
  assert.equal(
    answered.map((r) => r.status),
    [200, 200, 404, 201, 200, 200, 200],
  )
  for (const res of answered) {
    assertNoAccessControl(res, 'same-origin route')
    assert.is(res.headers.get('vary'), null)
  }
  for (const [path, method] of [
    ['/admin/users', 'GET'],
    ['/admin/sessions/x1', 'DELETE'],
    ['/admin/users/corina/disable', 'POST'],
    ['/api/backoffice/session', 'POST'],
    ['/console', 'GET'],
    ['/metrics', 'GET'],
  ] as const) {
    const res = await preflight(srv.url, path, APP, method)
    assert.is(res.status, 403, `${method} ${path}`)
    assert.is(res.headers.get('access-control-allow-origin'), null)
  }
})

listed('cors › should refuse a preflight for a method the path lacks with 405 and Allow, and answer a plain OPTIONS 405', async ({ srv }) => {
  const lacking = await preflight(srv.url, '/session', APP, 'PATCH')
  assert.is(lacking.status, 405)
  assert.is(lacking.body.error_info.error_code, 'METHOD_NOT_ALLOWED')
  assert.is(lacking.headers.get('allow'), 'GET, POST, DELETE')
  assert.is(lacking.headers.get('access-control-allow-methods'), null)
  const plain = await request(srv.url, 'OPTIONS', '/session', { headers: { Origin: APP } })
  assert.is(plain.status, 405)
  assert.is(plain.headers.get('allow'), 'GET, POST, DELETE')
  assertCrossOrigin(plain, APP, 'plain OPTIONS /session')
  const unknown = await preflight(srv.url, '/sessions', APP, 'POST')
  assert.is(unknown.status, 404)
  assertNoAccessControl(unknown, 'OPTIONS /sessions')
})

listed('cors › should keep /openapi.json free of OPTIONS operations while preflights are answered', async ({ srv }) => {
  const doc = (await request(srv.url, 'GET', '/openapi.json')).body
  const methods = Object.values(doc.paths as Record<string, Record<string, unknown>>).flatMap((ops) => Object.keys(ops))
  assert.not.ok(methods.includes('options'), 'a preflight is not an operation')
  assert.is((await preflight(srv.url, '/session', APP, 'POST')).status, 204)
})

// ── without ALLOWED_ORIGINS ─────────────────────────────────────────────────────────────────────
const unlisted = suite<{ srv: TestServer }>('unlisted')
unlisted.before(async (ctx) => {
  ctx.srv = await startServer()
})
unlisted.after(async (ctx) => {
  await ctx.srv?.close()
})

unlisted('cors › should serve no CORS at all without ALLOWED_ORIGINS', async ({ srv }) => {
  const sameOrigin = `http://127.0.0.1:${srv.port}`
  for (const origin of [APP, sameOrigin]) {
    const reg = await request(srv.url, 'POST', '/user/register', {
      headers: { Origin: origin },
      body: { username: origin === APP ? 'nora' : 'nils', password: 'password-123' },
    })
    assert.is(reg.status, 201, 'a request with an Origin is served as any other')
    assertNoAccessControl(reg, origin)
    assert.is(reg.headers.get('vary'), null)
    const refused = await preflight(srv.url, '/session', origin, 'POST')
    assert.is(refused.status, 403)
    assert.is(refused.body.error_info.error_code, 'ORIGIN_NOT_ALLOWED')
    assertNoAccessControl(refused, origin)
  }
})

// ── a failing dependency ────────────────────────────────────────────────────────────────────────
const failing = suite<{ srv: TestServer }>('failing')
failing.before(async (ctx) => {
  // Every rate-limit check fails, so a login fails closed with 500.
  const broken: LimiterBackend = (w) => {
    const counter = new RateLimiterMemory({ points: w.points, duration: w.durationSec })
    counter.consume = () => Promise.reject(new Error('store down'))
    return counter
  }
  ctx.srv = await startServer({ ALLOWED_ORIGINS: APP, LOG_LEVEL: 'silent' }, { deps: { limiterBackend: broken } })
})
failing.after(async (ctx) => {
  await ctx.srv?.close()
})

failing('cors › should carry the CORS headers on a 500 from a user route', async ({ srv }) => {
  const res = await request(srv.url, 'POST', '/session', { headers: { Origin: APP }, body: { username: 'anyone', password: 'password-123' } })
  assert.is(res.status, 500)
  assert.is(res.body.error_info.error_code, 'INTERNAL_ERROR')
  assertCrossOrigin(res, APP, 'POST /session 500')
})

// ── ALLOWED_ORIGINS parsing ─────────────────────────────────────────────────────────────────────
const parsing = suite('parsing')

parsing('config › should read ALLOWED_ORIGINS as trimmed exact origins', () => {
  assert.equal(loadConfig({ ALLOWED_ORIGINS: ' https://app.example , http://localhost:5173,https://app.example' }).allowedOrigins, [
    'https://app.example',
    'http://localhost:5173',
  ])
  assert.is(loadConfig({}).allowedOrigins, undefined)
})

parsing('config › should refuse ALLOWED_ORIGINS entries that are not origins as browsers send them, naming each', () => {
  const refusals: [string, RegExp][] = [
    ['https://app.example/', /"https:\/\/app\.example\/".*write it "https:\/\/app\.example"/],
    ['https://App.example', /write it "https:\/\/app\.example"/],
    ['https://app.example:443', /write it "https:\/\/app\.example"/],
    ['https://app.example/chat', /no user, path, query or fragment/],
    ['app.example', /scheme:\/\/host\[:port\]/],
    ['*', /list each origin/],
    ['null', /list each origin/],
    ['ftp://app.example', /only http and https/],
    ['https://a.example,,https://b.example', /entry 2 "": empty/],
  ]
  for (const [value, message] of refusals) {
    assert.throws(
      () => loadConfig({ ALLOWED_ORIGINS: value }),
      (e: unknown) => e instanceof ConfigError && e.message.includes('ALLOWED_ORIGINS') && message.test(e.message),
      `${value} was accepted or badly explained`,
    )
  }
})

listed.run()
unlisted.run()
failing.run()
parsing.run()
