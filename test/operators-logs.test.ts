import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { hashToken } from '../src/auth/tokens.js'
import { authHeaders, backofficeLogin, login, registerUser, request } from './helpers/http.js'
import { startServer, type TestServer } from './helpers/server.js'

const SERVICE_TOKEN = 'service-token-for-the-log-test-0123456789'
let srv: TestServer

test.before(async () => {
  srv = await startServer({ CHATGATE_SERVICE_TOKEN: SERVICE_TOKEN })
})
test.after(async () => {
  await srv.close()
})

const entries = () => srv.logs.map((l) => JSON.parse(l) as Record<string, any>)

test('logs › should write no token, password or hash while logging every login, password change, admin action and revocation', async () => {
  const secrets: string[] = [SERVICE_TOKEN, 'admin-password-123']
  const tokens: string[] = []

  // Logins in both dialects: successes and each kind of failure.
  const rita = await registerUser(srv.url, 'rita', 'rita-password-1', 'phone')
  const ritaLaptop = await login(srv.url, 'rita', 'rita-password-1', 'laptop')
  tokens.push(rita.token, ritaLaptop.token)
  secrets.push('rita-password-1', 'wrong-password-1')
  assert.is((await request(srv.url, 'POST', '/session', { body: { username: 'rita', password: 'wrong-password-1' } })).status, 401)
  assert.is((await request(srv.url, 'POST', '/session', { body: { username: 'ghost', password: 'ghost-password-1' } })).status, 401)
  secrets.push('ghost-password-1')
  const reg = await request(srv.url, 'POST', '/api/user', { body: { nickName: 'sven', email: 'sven@example.com', password: 'sven-password-1' } })
  tokens.push(reg.body.includes[0].token)
  const dl = await request(srv.url, 'POST', '/api/session', { body: { email: 'sven@example.com', password: 'sven-password-1' } })
  tokens.push(dl.body.data[0].token)
  secrets.push('sven-password-1')
  assert.is((await request(srv.url, 'POST', '/api/session', { body: { email: 'sven@example.com', password: 'wrong-password-2' } })).status, 401)
  secrets.push('wrong-password-2')
  const bo = await backofficeLogin(srv.url)
  tokens.push(bo.token)

  // A token offered in the URL is refused and must not reach the log either.
  assert.is((await request(srv.url, 'GET', `/session?token=${rita.token}`)).status, 400)

  // Password change (revokes the laptop session).
  const changed = await request(srv.url, 'PUT', '/user/password', {
    headers: authHeaders(rita.token, 'rita'),
    body: { old_password: 'rita-password-1', new_password: 'rita-password-2' },
  })
  assert.is(changed.status, 200)
  secrets.push('rita-password-2')

  // Admin actions, by backoffice session and by service token.
  const admin = authHeaders(bo.token, 'admin')
  const service = { authorization: `Bearer ${SERVICE_TOKEN}` }
  assert.is((await request(srv.url, 'GET', '/admin/devices', { headers: admin })).status, 200)
  assert.is((await request(srv.url, 'GET', '/admin/sessions', { headers: service })).status, 200)
  assert.is((await request(srv.url, 'DELETE', `/admin/sessions/${rita.sessionId}`, { headers: admin })).status, 200)
  assert.is((await request(srv.url, 'POST', '/admin/users/sven/disable', { headers: service })).status, 200)
  assert.is((await request(srv.url, 'POST', '/admin/users/sven/enable', { headers: admin })).status, 200)
  assert.is((await request(srv.url, 'GET', '/admin/devices', { headers: { authorization: `Bearer ${SERVICE_TOKEN}-wrong` } })).status, 401)

  // What must not appear: every token, its SHA-256 (hex and base64), every password, every bcrypt hash.
  for (const t of tokens) secrets.push(t, hashToken(t).toString('hex'), hashToken(t).toString('base64'))
  for (const name of ['rita', 'sven', 'admin']) secrets.push((await srv.app.store.findUserByUsername(name))!.passwordHash)
  const text = srv.logs.join('')
  for (const secret of secrets) assert.not.ok(text.includes(secret), `a secret reached the log: ${secret.slice(0, 6)}…`)
  assert.not.match(text, /\$2[aby]\$\d\d\$/)

  // What must appear: the lines operators rely on.
  const log = entries()
  const logins = log.filter((e) => e.event === 'login')
  assert.ok(
    logins.filter((e) => e.dialect !== 'dialogram').some((e) => e.result === 'ok'),
    'nullptr login ok',
  )
  assert.ok(logins.some((e) => e.dialect !== 'dialogram' && e.result === 'WRONG_PASSWORD'))
  assert.ok(logins.some((e) => e.dialect !== 'dialogram' && e.result === 'UNKNOWN_USER'))
  assert.ok(logins.some((e) => e.dialect === 'dialogram' && e.kind === 'user' && e.result === 'ok'))
  assert.ok(logins.some((e) => e.dialect === 'dialogram' && e.result === 'WRONG_PASSWORD'))
  assert.ok(logins.some((e) => e.dialect === 'dialogram' && e.kind === 'backoffice' && e.result === 'ok'))
  assert.is(logins.length, 6, 'one line per login attempt')
  assert.ok(log.some((e) => e.event === 'password_changed'))

  const actions = log.filter((e) => e.event === 'admin_action')
  const changes = actions.filter((e) => e.level === 30).map((e) => `${e.action}:${e.actor}`)
  assert.equal(changes, ['revoke_session:admin', 'disable_user:service', 'enable_user:admin'])
  assert.equal(
    actions.filter((e) => e.level === 20).map((e) => e.action),
    ['list_devices', 'list_sessions'],
  )
  assert.ok(actions.every((e) => e.ip === '127.0.0.1'))

  const revocations = log.filter((e) => e.event === 'sessions_revoked').map((e) => e.reason)
  assert.equal(revocations, ['password_changed', 'revoked_by_admin', 'account_disabled'])
})

test.run()
