import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { runCli } from './helpers/cli.js'
import { backofficeLogin, registerUser } from './helpers/http.js'
import { startServer, type TestServer } from './helpers/server.js'
import { connect, connectOk, waitFor, within } from './helpers/ws.js'

let srv: TestServer
test.before(async () => {
  srv = await startServer()
})
test.after(async () => {
  await srv.close()
})

const feed = (token: string, username: string, headers: Record<string, string> = {}) =>
  connect(srv.url, { path: '/admin/live', protocols: ['chatgate.v1', `token.${token}`, `username.${username}`], headers })

test('live feed › should refuse anything but an admin backoffice session, and another origin', async () => {
  const user = await registerUser(srv.url, 'feeduser')
  const admin = await backofficeLogin(srv.url)
  assert.is((await connect(srv.url, { path: '/admin/live' })).status, 401)
  assert.is((await feed(user.token, 'feeduser')).status, 403, 'a user session')
  assert.is((await feed('x'.repeat(43), 'admin')).status, 401)
  assert.is((await feed(admin.token, 'admin', { Origin: 'https://evil.example' })).status, 403, 'cross-origin')
})

test('live feed › should tell an admin that devices changed when a device connects, without data', async () => {
  const admin = await backofficeLogin(srv.url)
  const up = await feed(admin.token, 'admin', { Origin: srv.url })
  assert.is(up.status, 101)
  assert.is(up.headers['sec-websocket-protocol'], 'chatgate.v1', 'the credentials are never echoed')
  assert.equal(await up.client!.next(), { type: 'ready' })
  const u = await registerUser(srv.url, 'feedwatched')
  await connectOk(srv.url, { token: u.token, username: 'feedwatched' })
  assert.equal(await up.client!.next(5_000), { type: 'changed', topics: ['devices'] })
  up.client!.ws.close()
})

test('live feed › should bound feeds per admin and close a feed whose session is revoked with 4501', async () => {
  const admin = await backofficeLogin(srv.url)
  const open = []
  for (let i = 0; i < 4; i++) {
    const up = await feed(admin.token, 'admin')
    assert.is(up.status, 101)
    open.push(up.client!)
  }
  const fifth = await feed(admin.token, 'admin')
  assert.is(fifth.status, 429)
  assert.is(fifth.body.error_info.error_code, 'TOO_MANY_CONNECTIONS')
  await srv.app.sessions.revoke([admin.sessionId], 'logout')
  for (const c of open) assert.is((await within(c.closed, 5_000, 'the feed closes')).code, 4501)
})

test('live feed › should announce a CLI action through the stored audit trail and count it on this node without Redis', async () => {
  const admin = await backofficeLogin(srv.url)
  const up = await feed(admin.token, 'admin')
  await up.client!.next()
  const r = await runCli(['user', 'disable', 'feeduser'], { env: { DATABASE_URL: srv.databaseUrl } })
  assert.is(r.code, 0, r.stderr)
  const frames = await waitFor(() => up.client!.messages.find((m) => m.type === 'changed' && m.topics.includes('audit')), 5_000, 'an audit change')
  assert.ok(frames)
  const counted = await waitFor(
    async () => {
      const text = await (await fetch(`${srv.url}/metrics`)).text()
      return /chatgate_operator_actions_total\{action="disable_user",via="cli"\} 1\b/.test(text)
    },
    5_000,
    'the CLI action counted',
  )
  assert.ok(counted)
  up.client!.ws.close()
})

test.run()
