import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { captureBus } from './helpers/connection-rows.js'
import { authHeaders, backofficeLogin, login, request } from './helpers/http.js'
import { startServer, type TestServer } from './helpers/server.js'

let srv: TestServer
let admin: Record<string, string>

test.before(async () => {
  srv = await startServer()
  admin = authHeaders((await backofficeLogin(srv.url)).token, 'admin')
})
test.after(async () => {
  await srv.close()
})

/** Registers over the Dialogram dialect so the account can log in both ways. */
async function registerBoth(username: string, email: string) {
  const res = await request(srv.url, 'POST', '/api/user', { body: { nickName: username, email, password: 'password-123' } })
  assert.is(res.status, 201, JSON.stringify(res.body))
  return { token: res.body.includes[0].token as string, sessionId: res.body.includes[0].id as string }
}

const nullptrLogin = (username: string) => request(srv.url, 'POST', '/session', { body: { username, password: 'password-123' } })
const dialogramLogin = (email: string) => request(srv.url, 'POST', '/api/session', { body: { email, password: 'password-123' } })

test('admin users › should disable an account: revoke and announce all its sessions and block login in both dialects', async () => {
  const events = captureBus(srv.app)
  const first = await registerBoth('pia', 'pia@example.com')
  const second = await login(srv.url, 'pia')

  const res = await request(srv.url, 'POST', '/admin/users/PIA/disable', { headers: admin })
  assert.is(res.status, 200, JSON.stringify(res.body))
  assert.is(res.body.result.revoked, 2)
  assert.is(res.body.result.user.username, 'pia')
  assert.is(res.body.result.user.disabled, true)
  assert.is(events.length, 1)
  assert.is(events[0]!.reason, 'account_disabled')
  assert.equal(new Set(events[0]!.sessionIds), new Set([first.sessionId, second.sessionId]))

  for (const token of [first.token, second.token]) {
    assert.is((await request(srv.url, 'GET', '/session', { headers: authHeaders(token, 'pia') })).status, 401)
  }
  const viaNullptr = await nullptrLogin('pia')
  assert.is(viaNullptr.status, 403)
  assert.is(viaNullptr.body.error_info.error_code, 'ACCOUNT_DISABLED')
  const viaDialogram = await dialogramLogin('pia@example.com')
  assert.is(viaDialogram.status, 403)
  assert.is(viaDialogram.body.errors[0].code, 'ACCOUNT_DISABLED')
  assert.not.ok(JSON.stringify(viaDialogram.body).includes('token'), 'a refused login issues no session')
})

test('admin users › should enable an account again: login works, revoked sessions stay revoked', async () => {
  const old = await registerBoth('quinn', 'quinn@example.com')
  assert.is((await request(srv.url, 'POST', '/admin/users/quinn/disable', { headers: admin })).status, 200)
  const events = captureBus(srv.app)
  const res = await request(srv.url, 'POST', '/admin/users/quinn/enable', { headers: admin })
  assert.is(res.status, 200)
  assert.equal(res.body.result.revoked, 0)
  assert.is(res.body.result.user.disabled, false)
  assert.equal(events, [], 'enabling revokes nothing')

  assert.is((await nullptrLogin('quinn')).status, 200)
  assert.is((await dialogramLogin('quinn@example.com')).status, 201)
  assert.is((await request(srv.url, 'GET', '/session', { headers: authHeaders(old.token, 'quinn') })).status, 401)
})

test('admin users › should answer 404 NOT_FOUND for an unknown or impossible username', async () => {
  for (const name of ['nobody', '_under', 'x'.repeat(100)]) {
    for (const action of ['disable', 'enable']) {
      const res = await request(srv.url, 'POST', `/admin/users/${name}/${action}`, { headers: admin })
      assert.is(res.status, 404, `${action} ${name}`)
      assert.is(res.body.error_info.error_code, 'NOT_FOUND')
    }
  }
})

test('admin users › should answer 405 with Allow to a GET on a disable route', async () => {
  const res = await request(srv.url, 'GET', '/admin/users/pia/disable', { headers: admin })
  assert.is(res.status, 405)
  assert.is(res.headers.get('allow'), 'POST')
})

test.run()

test('admin users › should refuse to disable the last enabled admin with 409 LAST_ADMIN, changing nothing', async () => {
  const res = await request(srv.url, 'POST', '/admin/users/admin/disable', { headers: admin })
  assert.is(res.status, 409)
  assert.is(res.body.error_info.error_code, 'LAST_ADMIN')
  assert.is((await request(srv.url, 'GET', '/admin/devices', { headers: admin })).status, 200, 'the backoffice session still works')
  assert.ok(await backofficeLogin(srv.url), 'the admin can still log in')
})
