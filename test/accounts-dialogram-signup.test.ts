import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { assertDialogramError, nullptrResult } from './helpers/envelopes.js'
import { authHeaders, registerUser, request } from './helpers/http.js'
import { startServer, type TestServer } from './helpers/server.js'

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

let srv: TestServer

const createUser = (body: unknown) => request(srv.url, 'POST', '/api/user', { body })
const me = (token: string, username: string) => request(srv.url, 'GET', '/session', { headers: authHeaders(token, username) })

// ─── POST /api/user ─────────────────────────────────────────────────────────

const Users = suite('dialogram › POST /api/user')
Users.before(async () => {
  srv = await startServer()
})
Users.after(() => srv.close())

Users('should create the user and a session, in the Dialogram shape', async () => {
  const res = await createUser({
    nickName: 'Dialo_Gram',
    email: ' Dialo@Example.COM ',
    password: 'password-123',
    profile: { firstName: 'Ada', lastName: 'Lovelace' },
    deviceName: 'iPhone',
  })
  assert.is(res.status, 201, JSON.stringify(res.body))
  assert.equal(Object.keys(res.body).sort(), ['data', 'includes'])
  const [user] = res.body.data
  assert.match(user.id, UUID_V4)
  assert.equal(user, { type: 'user', id: user.id, nickName: 'dialo_gram', email: 'dialo@example.com', profile: { firstName: 'Ada', lastName: 'Lovelace' } })
  const [session] = res.body.includes
  assert.equal(Object.keys(session).sort(), ['deviceName', 'id', 'token', 'type'])
  assert.is(session.type, 'session')
  assert.is(session.deviceName, 'iPhone')
  assert.not.ok(JSON.stringify(user).includes(session.token))
  // The same account and session on the nullptr dialect.
  const view = nullptrResult(await me(session.token, 'dialo_gram'))
  assert.is(view.session.session_id, session.id)
  assert.is((await srv.app.store.findUserByEmail('dialo@example.com'))?.id, user.id)
})

Users('should default the profile to nulls and the device to "Unknown"', async () => {
  const res = await createUser({ nickName: 'plain-user', email: 'plain@example.com', password: 'password-123' })
  assert.is(res.status, 201)
  assert.equal(res.body.data[0].profile, { firstName: null, lastName: null })
  assert.is(res.body.includes[0].deviceName, 'Unknown')
})

Users('should refuse a taken email in any case with 409 EMAIL_TAKEN', async () => {
  assert.is((await createUser({ nickName: 'mail-first', email: 'shared@example.com', password: 'password-123' })).status, 201)
  assertDialogramError(await createUser({ nickName: 'mail-second', email: 'SHARED@example.com', password: 'password-123' }), 409, 'EMAIL_TAKEN')
  assert.is(await srv.app.store.findUserByUsername('mail-second'), null)
})

Users('should refuse a taken nickName, also one registered on the nullptr dialect, with 409 USERNAME_TAKEN', async () => {
  await registerUser(srv.url, 'nullptr-born')
  assertDialogramError(await createUser({ nickName: 'Nullptr-Born', email: 'other@example.com', password: 'password-123' }), 409, 'USERNAME_TAKEN')
  assert.is(await srv.app.store.findUserByEmail('other@example.com'), null)
})

Users('should apply the username rule to nickName with 400 INVALID_USERNAME', async () => {
  for (const nickName of ['_under', 'ab', 'a'.repeat(33), 'jürgen', 'two words']) {
    assertDialogramError(await createUser({ nickName, email: `x${nickName.length}@example.com`, password: 'password-123' }), 400, 'INVALID_USERNAME')
  }
})

Users('should apply the password rule with 400 INVALID_PASSWORD', async () => {
  for (const password of ['1234567', 'p'.repeat(73), 'é'.repeat(37)]) {
    assertDialogramError(await createUser({ nickName: 'pw-rule', email: 'pw-rule@example.com', password }), 400, 'INVALID_PASSWORD')
  }
  assert.is(await srv.app.store.findUserByUsername('pw-rule'), null)
})

Users('should refuse an email that is not an address with 400 BAD_REQUEST', async () => {
  for (const email of ['not-an-email', 'a@b', '', ' ', 'two@@example.com', `${'a'.repeat(65)}@example.com`, `a@${'b'.repeat(250)}.com`]) {
    assertDialogramError(await createUser({ nickName: 'bad-mail', email, password: 'password-123' }), 400, 'BAD_REQUEST')
  }
  assert.is(await srv.app.store.findUserByUsername('bad-mail'), null)
})

Users.run()
