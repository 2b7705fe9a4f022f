import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { assertDialogramError, assertNullptrError } from './helpers/envelopes.js'
import { authHeaders, backofficeLogin, request } from './helpers/http.js'
import { startServer, type TestServer } from './helpers/server.js'

// Backoffice sessions authenticate admin calls only (contract §3): on the users' routes they are
// refused with 403, except DELETE /session, so that an operator can end the backoffice session.
let srv: TestServer
test.before(async () => {
  srv = await startServer()
})
test.after(async () => {
  await srv.close()
})

test("backoffice › should refuse a backoffice session on the users' session and password routes with 403", async () => {
  const bo = await backofficeLogin(srv.url)
  const h = authHeaders(bo.token, bo.username)
  assertNullptrError(await request(srv.url, 'GET', '/session', { headers: h }), 403, 'FORBIDDEN')
  assertNullptrError(await request(srv.url, 'DELETE', '/session/others', { headers: h }), 403, 'FORBIDDEN')
  assertNullptrError(await request(srv.url, 'DELETE', `/session/${bo.sessionId}`, { headers: h }), 403, 'FORBIDDEN')
  const pw = await request(srv.url, 'PUT', '/user/password', {
    headers: h,
    body: { old_password: 'admin-password-123', new_password: 'another-password-1' },
  })
  assertNullptrError(pw, 403, 'FORBIDDEN')
  // Refused means refused: the password did not change and the session still works on admin routes.
  assert.is((await request(srv.url, 'GET', '/admin/sessions', { headers: h })).status, 200)
  assert.is((await request(srv.url, 'POST', '/api/backoffice/session', { body: { username: 'admin', password: 'admin-password-123' } })).status, 201)
})

test('backoffice › a username that breaks the rule should be 400 INVALID_USERNAME, a NUL in it included, never a 500', async () => {
  for (const username of ['a\u0000b', 'ad\u0000min', 'a', 'x'.repeat(300), 'Ädmin']) {
    const res = await request(srv.url, 'POST', '/api/backoffice/session', { body: { username, password: 'admin-password-123' } })
    assertDialogramError(res, 400, 'INVALID_USERNAME')
  }
  // The rule's own normalisation still applies: upper case is the same account.
  assert.is((await request(srv.url, 'POST', '/api/backoffice/session', { body: { username: 'ADMIN', password: 'admin-password-123' } })).status, 201)
})

test('backoffice › should let a backoffice session log itself out with DELETE /session', async () => {
  const bo = await backofficeLogin(srv.url)
  const h = authHeaders(bo.token, bo.username)
  assert.is((await request(srv.url, 'DELETE', '/session', { headers: h })).status, 200)
  assertNullptrError(await request(srv.url, 'GET', '/admin/devices', { headers: h }), 401, 'UNAUTHORIZED')
})

test.run()
