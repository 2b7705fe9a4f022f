import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { login, registerUser } from './helpers/http.js'
import { startServer, type TestServer } from './helpers/server.js'
import { connectOk, waitFor, type TestClient } from './helpers/ws.js'

// The registry keeps a key's single connection directly and a Set only from the second one
// (memory per idle connection); these tests walk a user and a session through one → several →
// one → none and check every view of the registry, and what sockets receive, at each step.

let srv: TestServer
test.before(async () => {
  srv = await startServer()
})
test.after(async () => {
  await srv.close()
})

const idsOf = (conns: { id: string }[]) => conns.map((c) => c.id).sort()

test('gateway › should track a user across one, several, one and no sockets and push to exactly the live ones', async () => {
  const registry = srv.app.gateway.registry
  const s1 = await registerUser(srv.url, 'rita')
  const s2 = await login(srv.url, 'rita')
  const s3 = await login(srv.url, 'rita')
  const open = async (token: string) => (await connectOk(srv.url, { token, username: 'rita' })).client.ignore('devices')
  const welcomeId = (c: TestClient) => c.messages[0]!.connection_id as string

  const a = await open(s1.token)
  assert.is(registry.countForUser(s1.userId), 1)
  assert.equal(idsOf(registry.ofUser(s1.userId)), [welcomeId(a)])
  assert.ok(registry.hasUser(s1.userId))

  const b = await open(s2.token)
  const c = await open(s3.token)
  assert.is(registry.countForUser(s1.userId), 3)
  assert.equal(idsOf(registry.ofUser(s1.userId)), [welcomeId(a), welcomeId(b), welcomeId(c)].sort())
  assert.is(registry.countForSession(s2.sessionId), 1)
  assert.is(registry.size, 3)
  assert.equal(idsOf([...registry.values()]), [welcomeId(a), welcomeId(b), welcomeId(c)].sort())
  assert.is(srv.app.gateway.deliverLocal(s1.userId, { n: 1 }), 3)
  for (const client of [a, b, c]) assert.equal((await client.nextOfType('event')).data, { n: 1 })

  await b.close()
  await waitFor(() => registry.countForUser(s1.userId) === 2, 5_000, 'the first close to register')
  assert.is(registry.countForSession(s2.sessionId), 0)
  assert.equal(registry.ofSession(s2.sessionId), [])
  await c.close()
  await waitFor(() => registry.countForUser(s1.userId) === 1, 5_000, 'the second close to register')
  // Back to one: the remaining socket is the one the index holds, and the only one pushed to.
  assert.equal(idsOf(registry.ofUser(s1.userId)), [welcomeId(a)])
  assert.is(srv.app.gateway.deliverLocal(s1.userId, { n: 2 }), 1)
  assert.equal((await a.nextOfType('event')).data, { n: 2 })
  assert.is(b.afterClose + c.afterClose, 0, 'closed sockets received nothing')

  // And up again from one, then down to none.
  const d = await open(s3.token)
  assert.is(registry.countForUser(s1.userId), 2)
  await Promise.all([a.close(), d.close()])
  await waitFor(() => registry.size === 0, 5_000, 'every close to register')
  assert.is(registry.countForUser(s1.userId), 0)
  assert.not.ok(registry.hasUser(s1.userId))
  assert.equal(registry.ofUser(s1.userId), [])
  assert.is(registry.countForIp('127.0.0.1'), 0)
  assert.is(srv.app.gateway.deliverLocal(s1.userId, { n: 3 }), 0)
})

test('gateway › should count sockets per address until the last one from it closes', async () => {
  const registry = srv.app.gateway.registry
  const u = await registerUser(srv.url, 'ivan')
  const v = await login(srv.url, 'ivan')
  const a = (await connectOk(srv.url, { token: u.token, username: 'ivan' })).client
  const b = (await connectOk(srv.url, { token: v.token, username: 'ivan' })).client
  assert.is(registry.countForIp('127.0.0.1'), 2)
  assert.equal(
    [...registry.values()].map((c) => c.ip),
    ['127.0.0.1', '127.0.0.1'],
  )
  await a.close()
  await waitFor(() => registry.countForIp('127.0.0.1') === 1, 5_000, 'the first close to register')
  await b.close()
  await waitFor(() => registry.countForIp('127.0.0.1') === 0, 5_000, 'the second close to register')
})

test.run()
