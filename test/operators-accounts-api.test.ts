import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { hashToken } from '../src/auth/tokens.js'
import { authHeaders, backofficeLogin, login, registerUser, request } from './helpers/http.js'
import { startServer, type TestServer } from './helpers/server.js'
import { connectOk, within } from './helpers/ws.js'

const SERVICE_TOKEN = 'svc-token-0123456789-abcdefghijklmnop-accounts'
let srv: TestServer
let admin: Record<string, string>
let adminToken: string
const service = { Authorization: `Bearer ${SERVICE_TOKEN}` }

test.before(async () => {
  srv = await startServer({ CHATGATE_SERVICE_TOKEN: SERVICE_TOKEN })
  adminToken = (await backofficeLogin(srv.url)).token
  admin = authHeaders(adminToken, 'admin')
})
test.after(async () => {
  await srv.close()
})

const call = (method: string, path: string, body?: unknown, headers = admin) =>
  request(srv.url, method, path, { headers, ...(body === undefined ? {} : { body }) })
const code = (res: { body: any }) => res.body.error_info?.error_code
const usernames = async (query: string) => ((await call('GET', `/admin/users?${query}`)).body.result.users as { username: string }[]).map((u) => u.username)
const auditEntries = async (limit = 50) => (await call('GET', `/admin/audit?limit=${limit}`)).body.result.entries as Record<string, string>[]

test('accounts api › should create an account with a generated password shown once, never logged, that logs in', async () => {
  const res = await call('POST', '/admin/users', { username: 'Gen_User', email: 'Gen@Example.com' })
  assert.is(res.status, 201, JSON.stringify(res.body))
  const { password, username, role, user_id } = res.body.result
  assert.is(username, 'gen_user')
  assert.is(role, 'user')
  assert.match(user_id, /^[0-9a-f-]{36}$/)
  assert.type(password, 'string')
  assert.ok(password.length >= 20)
  assert.is((await request(srv.url, 'POST', '/session', { body: { username: 'gen_user', password } })).status, 200)
  assert.is((await request(srv.url, 'POST', '/api/session', { body: { email: 'gen@example.com', password } })).status, 201)
  assert.not.ok(srv.logs.join('').includes(password), 'a generated password never reaches the log')

  const chosen = await call('POST', '/admin/users', { username: 'chosen', password: 'chosen-password-1', role: 'admin' })
  assert.is(chosen.status, 201)
  assert.equal(chosen.body.result.role, 'admin')
  assert.not.ok('password' in chosen.body.result, 'a chosen password is not echoed')
})

test('accounts api › should refuse bad input naming the field, a taken name or email, and create nothing', async () => {
  const before = (await call('GET', '/admin/users?limit=200')).body.result.users.length
  const bad: [unknown, number, string, RegExp?][] = [
    [{ username: '_x' }, 400, 'INVALID_USERNAME'],
    [{ username: 'okname', password: 'short' }, 400, 'INVALID_PASSWORD'],
    [{ username: 'okname', role: 'root' }, 400, 'BAD_REQUEST', /role/],
    [{ username: 'okname', email: 'not-an-email' }, 400, 'BAD_REQUEST'],
    [{ username: 'okname', password: 12345678 }, 400, 'BAD_REQUEST', /password/],
    [{ username: 'gen_user' }, 409, 'USERNAME_TAKEN'],
    [{ username: 'okname', email: 'gen@example.com' }, 409, 'EMAIL_TAKEN'],
  ]
  for (const [body, status, error, names] of bad) {
    const res = await call('POST', '/admin/users', body)
    assert.is(res.status, status, JSON.stringify(body))
    assert.is(code(res), error, JSON.stringify(body))
    if (names) assert.match(res.body.error_info.description, names)
  }
  assert.is((await call('GET', '/admin/users?limit=200')).body.result.users.length, before, 'nothing was created')
  assert.is((await call('POST', '/admin/users', { username: 'okname' }, authHeaders((await registerUser(srv.url, 'plain')).token, 'plain'))).status, 403)
})

test('accounts api › should list accounts newest first with filters in pages, and refuse bad filters', async () => {
  for (const name of ['lst-a', 'lst-b', 'lst-c']) await call('POST', '/admin/users', { username: name, email: `${name}@list.example.com` })
  await call('POST', '/admin/users/lst-b/disable')
  const alive = await login(srv.url, 'chosen', 'chosen-password-1')
  await connectOk(srv.url, { token: alive.token, username: 'chosen' })
  await srv.app.gateway.flush()

  assert.equal(await usernames('q=lst'), ['lst-c', 'lst-b', 'lst-a'])
  assert.equal(await usernames('q=LST-B%40'), ['lst-b'], 'an email prefix, lowercased')
  assert.equal(await usernames('q=lst&disabled=true'), ['lst-b'])
  assert.equal(await usernames('q=lst&disabled=false'), ['lst-c', 'lst-a'])
  assert.ok((await usernames('role=admin')).includes('chosen'))
  assert.not.ok((await usernames('role=admin')).includes('lst-a'))
  const first = await call('GET', '/admin/users?q=lst&limit=2')
  assert.equal(first.body.result.users.length, 2)
  const second = await call('GET', `/admin/users?q=lst&limit=2&cursor=${first.body.result.next_cursor}`)
  assert.equal(
    second.body.result.users.map((u: any) => u.username),
    ['lst-a'],
  )
  assert.is(second.body.result.next_cursor, null)

  const chosen = (await call('GET', '/admin/users?q=chosen')).body.result.users[0]
  assert.equal([chosen.sessions, chosen.online, chosen.role, chosen.disabled], [1, true, 'admin', false])
  assert.not.ok(JSON.stringify(first.body).match(/hash|\$2[aby]\$/))

  for (const q of ['role=root', 'disabled=yes', 'limit=0', 'cursor=nope', 'q=%01']) {
    const res = await call('GET', `/admin/users?${q}`)
    assert.is(res.status, 400, q)
    assert.is(code(res), 'BAD_REQUEST', q)
  }
})

test('accounts api › should reset a password (generated or chosen), revoking every session and closing its sockets with 4501', async () => {
  const tess = await registerUser(srv.url, 'tess')
  const { client } = await connectOk(srv.url, { token: tess.token, username: 'tess' })
  const res = await call('POST', '/admin/users/TESS/password', {})
  assert.is(res.status, 200)
  const generated = res.body.result.password as string
  assert.equal((await within(client.closed, 5_000, 'the close')).code, 4501)
  assert.is((await request(srv.url, 'GET', '/session', { headers: authHeaders(tess.token, 'tess') })).status, 401)
  assert.is((await request(srv.url, 'POST', '/session', { body: { username: 'tess', password: generated } })).status, 200)

  const chosen = await call('POST', '/admin/users/tess/password', { password: 'tess-new-password' })
  assert.equal(chosen.body.result, {})
  assert.is((await request(srv.url, 'POST', '/session', { body: { username: 'tess', password: 'tess-new-password' } })).status, 200)

  assert.is(code(await call('POST', '/admin/users/tess/password', { password: 'short' })), 'INVALID_PASSWORD')
  assert.is((await request(srv.url, 'POST', '/session', { body: { username: 'tess', password: 'tess-new-password' } })).status, 200, 'unchanged')
  assert.is((await call('POST', '/admin/users/nobody-here/password', {})).status, 404)
  assert.is(code(await call('POST', '/admin/users/nobody-here/password', {})), 'NOT_FOUND')
})

test('accounts api › should set roles, refusing to demote the last enabled admin (409 LAST_ADMIN) and changing nothing', async () => {
  assert.is((await call('PUT', '/admin/users/lst-a/role', { role: 'admin' })).status, 200)
  assert.is((await call('PUT', '/admin/users/lst-a/role', { role: 'user' })).status, 200)
  assert.is(code(await call('PUT', '/admin/users/lst-a/role', { role: 'boss' })), 'BAD_REQUEST')
  assert.match((await call('PUT', '/admin/users/lst-a/role', {})).body.error_info.description, /role/)
  assert.is((await call('PUT', '/admin/users/nobody-here/role', { role: 'user' })).status, 404)

  // chosen (admin) and admin are the enabled admins: demote chosen, then admin is the last one.
  assert.is((await call('PUT', '/admin/users/chosen/role', { role: 'user' })).status, 200)
  const last = await call('PUT', '/admin/users/admin/role', { role: 'user' })
  assert.is(last.status, 409)
  assert.is(code(last), 'LAST_ADMIN')
  assert.equal(
    (await call('GET', '/admin/users?q=admin&role=admin')).body.result.users.map((u: any) => u.username),
    ['admin'],
  )
  assert.is((await call('GET', '/admin/devices')).status, 200, 'still an admin')
})

test('accounts api › should delete an account: close its sockets with 4501, drop its sessions, free its username', async () => {
  const vic = await registerUser(srv.url, 'vic')
  const other = await login(srv.url, 'vic')
  const a = await connectOk(srv.url, { token: vic.token, username: 'vic' })
  const b = await connectOk(srv.url, { token: other.token, username: 'vic' })
  const res = await call('DELETE', '/admin/users/VIC')
  assert.is(res.status, 200)
  assert.equal(res.body.result, { revoked: 2 })
  assert.equal((await within(a.client.closed, 5_000, 'first close')).code, 4501)
  assert.equal((await within(b.client.closed, 5_000, 'second close')).code, 4501)
  assert.is((await request(srv.url, 'GET', '/session', { headers: authHeaders(vic.token, 'vic') })).status, 401)
  assert.is(await srv.app.store.findSessionById(vic.sessionId), null)
  assert.equal(await usernames('q=vic'), [])
  assert.is((await call('DELETE', '/admin/users/vic')).status, 404)
  assert.is((await request(srv.url, 'GET', '/user/checkUsername?username=vic')).body.result.available, true)
  await registerUser(srv.url, 'vic')

  const lastAdmin = await call('DELETE', '/admin/users/admin')
  assert.is(lastAdmin.status, 409)
  assert.is(code(lastAdmin), 'LAST_ADMIN')
  assert.is((await call('GET', '/admin/devices')).status, 200, 'the admin and its session are still there')
})

test('accounts api › should revoke every session of one user and leave the account usable', async () => {
  const una = await registerUser(srv.url, 'una')
  const { client } = await connectOk(srv.url, { token: una.token, username: 'una' })
  const res = await call('DELETE', '/admin/users/una/sessions', undefined, service)
  assert.equal(res.body.result, { revoked: 1 })
  assert.equal((await within(client.closed, 5_000, 'the close')).code, 4501)
  await login(srv.url, 'una')
  assert.is((await call('DELETE', '/admin/users/nobody-here/sessions')).status, 404)
})

test('accounts api › should record every action once, newest first, with who, via what, on whom and where, and nothing secret', async () => {
  await call('POST', '/admin/users', { username: 'audited', password: 'audited-password-1' })
  await call('POST', '/admin/users/audited/password', {}, service)
  await call('POST', '/admin/users/audited/disable')
  await call('POST', '/admin/users/audited/enable')
  await call('PUT', '/admin/users/audited/role', { role: 'admin' })
  await call('PUT', '/admin/users/audited/role', { role: 'user' })
  await call('DELETE', '/admin/users/audited')
  await call('DELETE', '/admin/users/audited')
  await call('GET', '/admin/users')
  await call('GET', '/admin/sessions')

  const mine = (await auditEntries()).filter((e) => e.target === 'audited')
  assert.equal(
    mine.map((e) => [e.action, e.actor, e.via]),
    [
      ['delete_user', 'admin', 'http'],
      ['set_role_user', 'admin', 'http'],
      ['set_role_admin', 'admin', 'http'],
      ['enable_user', 'admin', 'http'],
      ['disable_user', 'admin', 'http'],
      ['reset_password', 'service', 'service'],
      ['create_user', 'admin', 'http'],
    ],
    'one entry per action that changed something; reads and refused calls are not actions',
  )
  assert.ok(mine.every((e) => e.node_id === srv.app.gateway.nodeId && /^\d{4}-\d\d-\d\dT.*Z$/.test(e.at ?? '')))
  const lines = srv.logs.map((l) => JSON.parse(l)).filter((l) => l.event === 'admin_action' && l.level === 30 && l.target === 'audited')
  assert.equal(
    lines.map((l) => l.action),
    mine.map((e) => e.action).reverse(),
    'one info line per entry',
  )
  assert.ok(lines.every((l) => l.node_id === srv.app.gateway.nodeId && l.via && l.actor && l.at))

  const first = await call('GET', '/admin/audit?limit=2')
  const next = await call('GET', `/admin/audit?limit=2&cursor=${first.body.result.next_cursor}`)
  const all = await auditEntries(200)
  assert.equal([...first.body.result.entries, ...next.body.result.entries], all.slice(0, 4), 'pages follow each other')

  const text = JSON.stringify(all)
  const hashes = (await srv.app.store.listUsers({ limit: 200, now: Date.now(), aliveSince: 0 })).rows.map((u) => u.passwordHash)
  for (const secret of [adminToken, hashToken(adminToken).toString('hex'), SERVICE_TOKEN, 'audited-password-1', ...hashes]) {
    assert.not.ok(text.includes(secret), 'nothing secret in the audit trail')
  }
  assert.not.match(text, /"password"|token|hash|\$2[aby]\$/i)
  assert.is(code(await call('GET', '/admin/audit?limit=x')), 'BAD_REQUEST')
})

test('accounts api › should count every action in the metrics by action and via', async () => {
  const text = await (await fetch(`${srv.url}/metrics`)).text()
  assert.match(text, /chatgate_operator_actions_total\{action="create_user",via="http"\} [1-9]/)
  assert.match(text, /chatgate_operator_actions_total\{action="reset_password",via="service"\} [1-9]/)
  assert.match(text, /chatgate_operator_actions_total\{action="delete_user",via="http"\} [1-9]/)
})

test.run()
