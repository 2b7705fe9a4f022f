import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ChatgateError } from '../src/client/errors.js'
import { ChatgateClient, failOnUnhandledRejection } from './helpers/client.js'
import { startServer, type TestServer } from './helpers/server.js'

let srv: TestServer
const unhandled = failOnUnhandledRejection()
test.before(async () => {
  srv = await startServer()
})
test.after(async () => {
  await srv.close()
  assert.equal(unhandled, [])
})

/** The rejection of `p`, which must be a ChatgateError. */
async function failure(p: Promise<unknown>): Promise<ChatgateError> {
  try {
    await p
  } catch (e) {
    assert.instance(e, ChatgateError)
    return e as ChatgateError
  }
  throw new Error('expected a rejection')
}

test('client http › should register, log in, list devices, revoke one, log out the others and log out', async () => {
  const phone = new ChatgateClient({ baseUrl: srv.url })
  const signedUp = await phone.register({ username: 'ann', password: 'password-123', deviceName: 'phone' })
  assert.type(signedUp.userId, 'string')
  assert.is(phone.credentials?.username, 'ann')
  const laptop = new ChatgateClient({ baseUrl: `${srv.url}/` })
  const signedIn = await laptop.login({ username: 'ann', password: 'password-123', deviceName: 'laptop' })
  assert.is(signedIn.userId, signedUp.userId)
  const tablet = new ChatgateClient({ baseUrl: srv.url })
  const third = await tablet.login({ username: 'ann', password: 'password-123', deviceName: 'tablet' })

  const { session, devices } = await laptop.session()
  assert.is(session.session_id, signedIn.sessionId)
  assert.equal(devices.map((d) => d.device_name).sort(), ['laptop', 'phone', 'tablet'])

  await laptop.revokeDevice(third.sessionId)
  assert.is((await failure(tablet.session())).code, 'UNAUTHORIZED')
  assert.equal(await laptop.logoutOthers(), { revoked: 1 })
  assert.is((await failure(phone.session())).status, 401)

  // restore(): a kept token, no network call.
  const again = new ChatgateClient({ baseUrl: srv.url })
  again.restore(laptop.credentials!)
  assert.is((await again.session()).session.session_id, signedIn.sessionId)
  await again.logout()
  assert.is(again.credentials, null)
  assert.is((await failure(laptop.session())).code, 'UNAUTHORIZED')
})

test('client http › should carry the server error code, status and Retry-After in ChatgateError', async () => {
  const c = new ChatgateClient({ baseUrl: srv.url })
  await c.register({ username: 'bea', password: 'password-123' })
  const wrong = await failure(new ChatgateClient({ baseUrl: srv.url }).login({ username: 'bea', password: 'nope-nope-nope' }))
  assert.is(wrong.code, 'INCORRECT_PASSWORD')
  assert.is(wrong.status, 401)
  assert.is((await failure(c.changePassword('wrong-old-pass', 'password-456'))).code, 'INCORRECT_PASSWORD')
  await c.changePassword('password-123', 'password-456')
  await new ChatgateClient({ baseUrl: srv.url }).login({ username: 'bea', password: 'password-456' })
  const taken = await failure(new ChatgateClient({ baseUrl: srv.url }).register({ username: 'bea', password: 'password-123' }))
  assert.is(taken.code, 'USERNAME_TAKEN')
  assert.is(taken.status, 409)
})

test('client http › should reject with NETWORK when nothing answers, and BAD_RESPONSE for an answer without the envelope', async () => {
  const dead = createServer()
  await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r))
  const deadPort = (dead.address() as AddressInfo).port
  await new Promise((r) => dead.close(r))
  const offline = await failure(new ChatgateClient({ baseUrl: `http://127.0.0.1:${deadPort}` }).login({ username: 'x', password: 'password-123' }))
  assert.is(offline.code, 'NETWORK')
  assert.is(offline.status, 0)

  let answer = { status: 502, type: 'text/html', body: '<h1>Bad Gateway</h1>', retryAfter: '7' }
  const proxy: Server = createServer((_req, res) => {
    res.writeHead(answer.status, { 'content-type': answer.type, 'retry-after': answer.retryAfter })
    res.end(answer.body)
  })
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r))
  try {
    const base = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`
    const html = await failure(new ChatgateClient({ baseUrl: base }).login({ username: 'x', password: 'password-123' }))
    assert.is(html.code, 'BAD_RESPONSE')
    assert.is(html.status, 502)
    assert.is(html.retryAfter, 7)
    answer = { status: 200, type: 'application/json', body: '{"unexpected":true}', retryAfter: '' }
    assert.is((await failure(new ChatgateClient({ baseUrl: base }).login({ username: 'x', password: 'password-123' }))).code, 'BAD_RESPONSE')
    answer = {
      status: 429,
      type: 'application/json',
      body: '{"error":true,"error_info":{"error_code":"RATE_LIMITED","description":"slow"},"result":null}',
      retryAfter: '3',
    }
    const limited = await failure(new ChatgateClient({ baseUrl: base }).login({ username: 'x', password: 'password-123' }))
    assert.equal([limited.code, limited.status, limited.retryAfter, limited.message], ['RATE_LIMITED', 429, 3, 'slow'])
  } finally {
    await new Promise((r) => proxy.close(r))
  }
})

test('client http › connect() without credentials should throw at once with a clear message', async () => {
  const c = new ChatgateClient({ baseUrl: srv.url })
  assert.throws(() => c.connect(), /connect\(\) needs credentials: call login\(\), register\(\) or restore\(\) first/)
  assert.is((await failure(c.session())).code, 'UNAUTHORIZED')
  assert.throws(() => c.restore({ username: 'x', token: '' }), /restore\(\) needs/)
})

test.run()
