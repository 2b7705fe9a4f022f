import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { startServer, type TestServer } from './helpers/server.js'
import { authHeaders, login, registerUser, request } from './helpers/http.js'

let srv: TestServer
test.before(async () => {
  srv = await startServer()
})
test.after(async () => {
  await srv.close()
})

test('smoke › should register, log in and list two sessions', async () => {
  const reg = await registerUser(srv.url, 'Smoke_User')
  const second = await login(srv.url, 'SMOKE_USER', 'password-123', 'laptop')
  assert.is.not(second.token, reg.token)
  const me = await request(srv.url, 'GET', '/session', { headers: authHeaders(second.token, 'smoke_user') })
  assert.is(me.status, 200)
  assert.is(me.body.result.session.session_id, second.sessionId)
  assert.is(me.body.result.devices.length, 2)
})

test.run()
