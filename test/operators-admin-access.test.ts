import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { authHeaders, backofficeLogin, login, registerUser, request } from './helpers/http.js'
import { startServer, type TestServer } from './helpers/server.js'

const SERVICE_TOKEN = 'service-token-0123456789abcdefghijklmnop'

/** Every operator route, with a target that exists, so only the caller decides the answer. */
const routes = (sessionId: string) => [
  { method: 'GET', path: '/admin/devices' },
  { method: 'GET', path: '/admin/sessions' },
  { method: 'DELETE', path: `/admin/sessions/${sessionId}` },
  { method: 'POST', path: '/admin/users/alice/disable' },
  { method: 'POST', path: '/admin/users/alice/enable' },
]

const access = suite('operators access')
let srv: TestServer
let alice: Awaited<ReturnType<typeof registerUser>>
let aliceTarget: Awaited<ReturnType<typeof login>>

access.before(async () => {
  srv = await startServer({ CHATGATE_SERVICE_TOKEN: SERVICE_TOKEN })
  alice = await registerUser(srv.url, 'alice')
  aliceTarget = await login(srv.url, 'alice', 'password-123', 'tablet')
})
access.after(async () => {
  await srv.close()
})

/** Alice's sessions are untouched and she can still log in: the refused calls did nothing. */
async function assertNothingHappened() {
  const me = await request(srv.url, 'GET', '/session', { headers: authHeaders(aliceTarget.token, 'alice') })
  assert.is(me.status, 200, 'the target session must still be live')
  assert.ok(await login(srv.url, 'alice'), 'alice must still be able to log in')
}

access('operators › should answer 401 UNAUTHORIZED with the envelope to an anonymous caller on every admin route', async () => {
  for (const r of routes(aliceTarget.sessionId)) {
    const res = await request(srv.url, r.method, r.path)
    assert.is(res.status, 401, `${r.method} ${r.path}`)
    assert.equal(res.body, { error: true, error_info: { error_code: 'UNAUTHORIZED', description: res.body.error_info.description }, result: null })
  }
  await assertNothingHappened()
})

access('operators › should answer 403 FORBIDDEN to a user session on every admin route', async () => {
  for (const r of routes(aliceTarget.sessionId)) {
    const res = await request(srv.url, r.method, r.path, { headers: authHeaders(alice.token, 'alice') })
    assert.is(res.status, 403, `${r.method} ${r.path}`)
    assert.is(res.body.error_info.error_code, 'FORBIDDEN')
  }
  await assertNothingHappened()
})

access('operators › should answer 403 to a user session of an admin account (only backoffice sessions count)', async () => {
  const adminAsUser = await login(srv.url, 'admin', 'admin-password-123')
  for (const r of routes(aliceTarget.sessionId)) {
    const res = await request(srv.url, r.method, r.path, { headers: authHeaders(adminAsUser.token, 'admin') })
    assert.is(res.status, 403, `${r.method} ${r.path}`)
  }
  await assertNothingHappened()
})

access('operators › should refuse a wrong service token and a malformed bearer with 401', async () => {
  for (const authorization of [`Bearer ${SERVICE_TOKEN}x`, `Bearer ${SERVICE_TOKEN.slice(0, -1)}`, SERVICE_TOKEN, 'Bearer ', `Basic ${SERVICE_TOKEN}`]) {
    for (const r of routes(aliceTarget.sessionId)) {
      const res = await request(srv.url, r.method, r.path, { headers: { authorization } })
      assert.is(res.status, 401, `${authorization} on ${r.method} ${r.path}`)
    }
  }
  await assertNothingHappened()
})

access('operators › should refuse a backoffice token presented with another username', async () => {
  const bo = await backofficeLogin(srv.url)
  const res = await request(srv.url, 'GET', '/admin/devices', { headers: authHeaders(bo.token, 'alice') })
  assert.is(res.status, 401)
})

access('operators › should let a backoffice session of an admin call every admin route', async () => {
  const bo = await backofficeLogin(srv.url)
  for (const r of routes(aliceTarget.sessionId)) {
    const res = await request(srv.url, r.method, r.path, { headers: authHeaders(bo.token, 'admin') })
    assert.is(res.status, 200, `${r.method} ${r.path}: ${JSON.stringify(res.body)}`)
    assert.is(res.body.error, false)
  }
})

access('operators › should let the service token call every admin route', async () => {
  const target = await login(srv.url, 'alice', 'password-123', 'phone')
  for (const r of routes(target.sessionId)) {
    const res = await request(srv.url, r.method, r.path, { headers: { authorization: `Bearer ${SERVICE_TOKEN}` } })
    assert.is(res.status, 200, `${r.method} ${r.path}: ${JSON.stringify(res.body)}`)
  }
  const me = await request(srv.url, 'GET', '/session', { headers: authHeaders(target.token, 'alice') })
  assert.is(me.status, 401, 'the service revoked the target session')
})

access('operators › should match the Bearer scheme case-insensitively (RFC 9110)', async () => {
  for (const scheme of ['bearer', 'BEARER', 'BeArEr']) {
    const res = await request(srv.url, 'GET', '/admin/devices', { headers: { authorization: `${scheme} ${SERVICE_TOKEN}` } })
    assert.is(res.status, 200, scheme)
  }
})

access('operators › should let a backoffice pair through when a proxy added a non-Bearer Authorization header', async () => {
  const admin = await backofficeLogin(srv.url)
  for (const authorization of ['Basic dXNlcjpwYXNz', 'Negotiate abc', 'Digest username="x"']) {
    const res = await request(srv.url, 'GET', '/admin/devices', { headers: { ...authHeaders(admin.token, admin.username), authorization } })
    assert.is(res.status, 200, authorization)
  }
  // A Bearer header still decides alone: a wrong one is 401 even beside a valid pair.
  const wrong = await request(srv.url, 'GET', '/admin/devices', {
    headers: { ...authHeaders(admin.token, admin.username), authorization: 'bearer nope-nope-nope' },
  })
  assert.is(wrong.status, 401)
})

access.run()

const noService = suite('operators without a service token')
let plain: TestServer

noService.before(async () => {
  plain = await startServer()
})
noService.after(async () => {
  await plain.close()
})

noService('operators › should refuse any bearer when CHATGATE_SERVICE_TOKEN is unset', async () => {
  for (const authorization of ['Bearer undefined', 'Bearer ', `Bearer ${SERVICE_TOKEN}`]) {
    const res = await request(plain.url, 'GET', '/admin/devices', { headers: { authorization } })
    assert.is(res.status, 401, authorization)
  }
})

noService.run()
