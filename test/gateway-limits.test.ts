import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { registerUser } from './helpers/http.js'
import { startServer, type TestServer } from './helpers/server.js'
import { connect, connectOk, rawUpgrade } from './helpers/ws.js'

let srv: TestServer
test.before(async () => {
  srv = await startServer({ UPGRADES_PER_IP_PER_MIN: '3' })
})
test.after(async () => {
  await srv.close()
})

test('gateway limits › should refuse a header value with a C1 control character with 400 before the session lookup', async () => {
  const u = await registerUser(srv.url, 'ctl-user')
  // The header check runs before the rate check, so this refusal spends none of the IP's budget.
  const res = await rawUpgrade(srv.url, { Token: u.token, Username: u.username, 'User-Agent': 'evil\x85agent' })
  assert.is(res.status, 400)
  assert.is(res.body.error_info.error_code, 'BAD_REQUEST')
})

test('gateway limits › should answer 429 RATE_LIMITED with Retry-After once an IP passes its upgrades per minute', async () => {
  const u = await registerUser(srv.url, 'rate-user')
  const opened = []
  for (let i = 0; i < 3; i++) opened.push(await connectOk(srv.url, { token: u.token, username: u.username }))
  const refused = await connect(srv.url, { token: u.token, username: u.username })
  assert.is(refused.status, 429)
  assert.is(refused.body.error_info.error_code, 'RATE_LIMITED')
  assert.ok(Number(refused.headers['retry-after']) >= 1, `Retry-After: ${refused.headers['retry-after']}`)
  assert.is(refused.client, null)
  // The refusal closed nothing: the last accepted socket is still live (replace policy closed the older ones).
  const last = opened[opened.length - 1]!.client
  await last.roundTrip()
  for (const o of opened) o.client.ws.terminate()
})

test.run()
