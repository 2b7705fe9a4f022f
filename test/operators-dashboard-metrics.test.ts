import { readFileSync } from 'node:fs'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { authHeaders, backofficeLogin, login, registerUser, request } from './helpers/http.js'
import { startServer, type TestServer } from './helpers/server.js'
import { connectOk, waitFor, within } from './helpers/ws.js'

const dashboard = JSON.parse(readFileSync(new URL('../docs/grafana/chatgate.json', import.meta.url), 'utf8'))
let srv: TestServer

test.before(async () => {
  srv = await startServer()
})
test.after(async () => {
  await srv.close()
})

const scrape = async () => (await fetch(`${srv.url}/metrics`)).text()
/** The value of one exact sample line, or 0 when it is absent. */
const sample = (text: string, series: string) => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `))
  return line ? Number(line.slice(series.length + 1)) : 0
}

test('metrics › should time HTTP requests by declared route id and status, never by raw URL', async () => {
  const admin = authHeaders((await backofficeLogin(srv.url)).token, 'admin')
  await request(srv.url, 'GET', '/admin/devices?limit=3', { headers: admin })
  await request(srv.url, 'GET', '/admin/users/no-such-user-here/nothing', { headers: admin })
  await request(srv.url, 'GET', '/admin/sessions?limit=x', { headers: admin })
  const text = await scrape()
  assert.ok(sample(text, 'chatgate_http_request_duration_seconds_count{route="list_devices",status="200"}') >= 1)
  assert.ok(sample(text, 'chatgate_http_request_duration_seconds_count{route="list_sessions",status="400"}') >= 1)
  assert.ok(sample(text, 'chatgate_http_request_duration_seconds_count{route="none",status="404"}') >= 1, 'no route: one label value')
  assert.ok(sample(text, 'chatgate_http_request_duration_seconds_count{route="backoffice_login",status="201"}') >= 1)
  assert.not.match(text, /route="[^"]*[/?]/, 'no path or query in a label')
})

test('metrics › should time logins by kind and result, and handshakes from the upgrade request to the welcome', async () => {
  const u = await registerUser(srv.url, 'metered')
  await request(srv.url, 'POST', '/session', { body: { username: 'metered', password: 'wrong-password' } })
  const { client } = await connectOk(srv.url, { token: u.token, username: 'metered' })
  await request(srv.url, 'POST', '/api/backoffice/session', { body: { username: 'metered', password: 'password-123' } })
  const text = await scrape()
  assert.ok(sample(text, 'chatgate_login_duration_seconds_count{kind="user",result="wrong_password"}') >= 1)
  assert.ok(sample(text, 'chatgate_login_duration_seconds_count{kind="backoffice",result="not_admin"}') >= 1)
  assert.ok(sample(text, 'chatgate_login_duration_seconds_sum{kind="user",result="wrong_password"}') > 0)
  assert.ok(sample(text, 'chatgate_handshake_duration_seconds_count{result="ok"}') >= 1)
  assert.ok(sample(text, 'chatgate_handshake_duration_seconds_sum{result="ok"}') > 0)
  client.ws.close()
})

test('metrics › should measure revocation-to-close latency from the revocation time carried on the bus', async () => {
  const u = await registerUser(srv.url, 'revokee')
  const second = await login(srv.url, 'revokee')
  const a = await connectOk(srv.url, { token: u.token, username: 'revokee' })
  const b = await connectOk(srv.url, { token: second.token, username: 'revokee' })
  const before = sample(await scrape(), 'chatgate_revocation_close_seconds_count')
  // A revocation announced as made 2 s ago (on another node, say): the histogram must see ≥ 2 s.
  await srv.app.bus.publish({ type: 'sessions_revoked', sessionIds: [u.sessionId], reason: 'revoked_by_admin', revokedAt: Date.now() - 2_000 })
  assert.is((await within(a.client.closed, 5_000, 'the close')).code, 4501)
  await srv.app.sessions.revoke([second.sessionId], 'revoked_by_admin')
  assert.is((await within(b.client.closed, 5_000, 'the close')).code, 4501)
  const text = await waitFor(async () => {
    const t = await scrape()
    return sample(t, 'chatgate_revocation_close_seconds_count') >= before + 2 ? t : null
  }, 5_000)
  assert.ok(sample(text, 'chatgate_revocation_close_seconds_bucket{le="1"}') >= 1, 'the local revocation closed within 1 s')
  assert.ok(sample(text, 'chatgate_revocation_close_seconds_sum') >= 2, 'the carried time is used, not the arrival time')
})

test('dashboard › should query only series that exist on /metrics', async () => {
  const text = await scrape()
  const exposed = new Set(
    text
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(l)![0]),
  )
  const exprs: string[] = [...dashboard.panels.flatMap((p: any) => p.targets.map((t: any) => t.expr)), ...dashboard.templating.list.map((v: any) => v.query)]
  assert.ok(exprs.length >= 8)
  const names = new Set(exprs.flatMap((e) => [...e.matchAll(/\b(chatgate_[a-z0-9_]+|nodejs_[a-z0-9_]+|process_[a-z0-9_]+)\b/g)].map((m) => m[1]!)))
  assert.ok(names.size >= 5)
  const missing = [...names].filter((n) => !exposed.has(n))
  assert.equal(missing, [], 'every series the dashboard queries is on /metrics')
  for (const family of ['http_request_duration_seconds', 'login_duration_seconds', 'handshake_duration_seconds', 'revocation_close_seconds']) {
    assert.ok(
      [...names].some((n) => n.startsWith(`chatgate_${family}_`)),
      `the dashboard shows chatgate_${family}`,
    )
  }
  assert.ok(names.has('chatgate_operator_actions_total'))
})

test.run()
