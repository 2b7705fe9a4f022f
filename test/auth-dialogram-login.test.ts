import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { assertDialogramError, nullptrResult } from './helpers/envelopes.js'
import { authHeaders, login, registerUser, request, type Res } from './helpers/http.js'
import { startServer, type TestServer } from './helpers/server.js'

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

let srv: TestServer

const createUser = (body: unknown) => request(srv.url, 'POST', '/api/user', { body })
const createSession = (body: unknown, headers: Record<string, string> = {}) => request(srv.url, 'POST', '/api/session', { body, headers })
const backoffice = (body: unknown) => request(srv.url, 'POST', '/api/backoffice/session', { body })
const me = (token: string, username: string) => request(srv.url, 'GET', '/session', { headers: authHeaders(token, username) })

/** Asserts the Dialogram session resource envelope and returns the session. */
function sessionOf(res: Res, includes: unknown[] = []): { type: string; id: string; token: string; deviceName: string } {
  assert.is(res.status, 201, `expected 201, got ${res.status} ${JSON.stringify(res.body)}`)
  assert.equal(Object.keys(res.body).sort(), ['data', 'includes'])
  assert.equal(res.body.includes, includes)
  assert.is(res.body.data.length, 1)
  const s = res.body.data[0]
  assert.equal(Object.keys(s).sort(), ['deviceName', 'id', 'token', 'type'])
  assert.is(s.type, 'session')
  assert.match(s.id, UUID_V4)
  assert.match(s.token, /^[A-Za-z0-9_-]{32,}$/)
  return s
}

// ─── POST /api/session ──────────────────────────────────────────────────────

const Sessions = suite('dialogram › POST /api/session')
Sessions.before(async () => {
  srv = await startServer()
  const res = await createUser({ nickName: 'dlogin', email: 'dlogin@example.com', password: 'password-123' })
  assert.is(res.status, 201)
})
Sessions.after(() => srv.close())

Sessions('should log in by email in any case and give a user session usable on both dialects', async () => {
  const res = await createSession({ email: '  DLogin@Example.com', password: 'password-123', deviceName: 'Firefox' }, { 'user-agent': 'dialogram-test' })
  const s = sessionOf(res)
  assert.is(s.deviceName, 'Firefox')
  const stored = await srv.app.store.findSessionById(s.id)
  assert.is(stored?.kind, 'user')
  assert.is(stored?.userAgent, 'dialogram-test')
  nullptrResult(await me(s.token, 'dlogin'))
  nullptrResult(await request(srv.url, 'DELETE', '/session', { headers: authHeaders(s.token, 'dlogin') }))
  assert.is((await me(s.token, 'dlogin')).status, 401)
})

Sessions('should name the device "Unknown" by default', async () => {
  assert.is(sessionOf(await createSession({ email: 'dlogin@example.com', password: 'password-123' })).deviceName, 'Unknown')
})

Sessions('should answer a wrong email and a wrong password with the same 401 INVALID_CREDENTIALS', async () => {
  const user = await srv.app.store.findUserByUsername('dlogin')
  const before = (await srv.app.sessions.listSessions(user!.id)).length
  const wrongEmail = await createSession({ email: 'nobody@example.com', password: 'password-123' })
  const wrongPassword = await createSession({ email: 'dlogin@example.com', password: 'password-124' })
  assertDialogramError(wrongEmail, 401, 'INVALID_CREDENTIALS')
  assertDialogramError(wrongPassword, 401, 'INVALID_CREDENTIALS')
  assert.equal(wrongEmail.body, wrongPassword.body, 'the two failures must be indistinguishable')
  assert.is((await srv.app.sessions.listSessions(user!.id)).length, before)
})

Sessions('should not log in by username here (accounts without an email use the nullptr dialect)', async () => {
  await registerUser(srv.url, 'no-email-user')
  assertDialogramError(await createSession({ email: 'no-email-user', password: 'password-123' }), 401, 'INVALID_CREDENTIALS')
  assertDialogramError(await createSession({ username: 'no-email-user', password: 'password-123' }), 400, 'BAD_REQUEST')
})

Sessions('should let a Dialogram account log in on the nullptr dialect by its nickName', async () => {
  const s = await login(srv.url, 'DLOGIN')
  nullptrResult(await me(s.token, 'dlogin'))
})

Sessions('should refuse a disabled account with 403 ACCOUNT_DISABLED', async () => {
  const res = await createUser({ nickName: 'd-disabled', email: 'd-disabled@example.com', password: 'password-123' })
  await srv.app.accounts.setDisabled(res.body.data[0].id, true)
  assertDialogramError(await createSession({ email: 'd-disabled@example.com', password: 'password-123' }), 403, 'ACCOUNT_DISABLED')
  assertDialogramError(await createSession({ email: 'd-disabled@example.com', password: 'wrong-password' }), 401, 'INVALID_CREDENTIALS')
})

// ─── POST /api/backoffice/session ───────────────────────────────────────────

const Backoffice = suite('dialogram › POST /api/backoffice/session')
Backoffice.before(async () => {
  srv = await startServer()
  await srv.app.accounts.createUser({ username: 'ops', email: 'ops@example.com', password: 'ops-password-1', role: 'admin' })
  await registerUser(srv.url, 'plain-worker', 'worker-password')
  assert.is((await createUser({ nickName: 'mail-worker', email: 'worker@example.com', password: 'worker-password' })).status, 201)
})
Backoffice.after(() => srv.close())

Backoffice('should give an admin a backoffice session by username or by email, including the user (its username for the admin calls)', async () => {
  const userOf = async (name: string) => {
    const u = (await srv.app.store.findUserByUsername(name))!
    return [{ type: 'user', id: u.id, nickName: u.username, email: u.email, profile: { firstName: u.firstName, lastName: u.lastName } }]
  }
  const byName = sessionOf(await backoffice({ username: 'ADMIN', password: 'admin-password-123' }), await userOf('admin'))
  assert.is(byName.deviceName, 'Backoffice')
  assert.is((await srv.app.store.findSessionById(byName.id))?.kind, 'backoffice')
  const byEmail = sessionOf(await backoffice({ email: 'OPS@example.com', password: 'ops-password-1' }), await userOf('ops'))
  assert.is((await srv.app.store.findSessionById(byEmail.id))?.kind, 'backoffice')
  assert.is((await srv.app.store.findSessionById(byEmail.id))?.userId, (await srv.app.store.findUserByUsername('ops'))?.id)
})

Backoffice('should refuse a non-admin with the right password with 403 FORBIDDEN and create no session', async () => {
  const worker = await srv.app.store.findUserByUsername('plain-worker')
  const before = (await srv.app.sessions.listSessions(worker!.id)).length
  assertDialogramError(await backoffice({ username: 'plain-worker', password: 'worker-password' }), 403, 'FORBIDDEN')
  assertDialogramError(await backoffice({ email: 'worker@example.com', password: 'worker-password' }), 403, 'FORBIDDEN')
  assert.is((await srv.app.sessions.listSessions(worker!.id)).length, before)
})

Backoffice('should answer wrong credentials with 401 INVALID_CREDENTIALS, without revealing the role', async () => {
  assertDialogramError(await backoffice({ username: 'admin', password: 'wrong-password' }), 401, 'INVALID_CREDENTIALS')
  assertDialogramError(await backoffice({ username: 'no-such-admin', password: 'admin-password-123' }), 401, 'INVALID_CREDENTIALS')
  assertDialogramError(await backoffice({ email: 'nobody@example.com', password: 'admin-password-123' }), 401, 'INVALID_CREDENTIALS')
  assertDialogramError(await backoffice({ username: 'plain-worker', password: 'wrong-password' }), 401, 'INVALID_CREDENTIALS')
})

Backoffice('should refuse a disabled admin with 403 ACCOUNT_DISABLED', async () => {
  const ops = await srv.app.store.findUserByUsername('ops')
  await srv.app.accounts.setDisabled(ops!.id, true)
  assertDialogramError(await backoffice({ username: 'ops', password: 'ops-password-1' }), 403, 'ACCOUNT_DISABLED')
  await srv.app.accounts.setDisabled(ops!.id, false)
})

Backoffice('should refuse a body with neither email nor username with 400 BAD_REQUEST', async () => {
  assertDialogramError(await backoffice({ password: 'admin-password-123' }), 400, 'BAD_REQUEST')
  assertDialogramError(await backoffice({ username: 'admin' }), 400, 'BAD_REQUEST')
})

Sessions.run()
Backoffice.run()
