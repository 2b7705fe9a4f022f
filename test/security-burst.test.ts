import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { registerUser, request } from './helpers/http.js'
import { openRaw, responseCount, statusOf, type RawClient } from './helpers/raw-socket.js'
import { startServer, type TestServer } from './helpers/server.js'
import { waitFor, within } from './helpers/wait-for.js'
import { connect, connectOk } from './helpers/ws.js'

let srv: TestServer

test.before(async () => {
  srv = await startServer({
    HTTP_HEADERS_TIMEOUT_MS: '800',
    HTTP_REQUEST_TIMEOUT_MS: '1500',
    LOGIN_ATTEMPTS_PER_ACCOUNT_PER_MIN: '3',
    LOGIN_ATTEMPTS_PER_IP_PER_MIN: '20',
    REGISTRATIONS_PER_IP_PER_HOUR: '3',
    UPGRADES_PER_IP_PER_MIN: '12',
  })
})
test.after(async () => {
  await srv.close()
})

/** Sends raw bytes, waits (bounded) for the server to close, and returns the status it answered (0: none). */
async function rawShot(bytes: string | Buffer, ms = 8000): Promise<{ status: number }> {
  let raw: RawClient | undefined
  try {
    raw = await openRaw(srv.port)
    await raw.write(bytes)
    await within(raw.closed, ms, 'the server to close a bad connection')
    return { status: statusOf(raw.received()) ?? 0 }
  } finally {
    raw?.destroy()
  }
}

/** Holds a connection open by sending one header byte every 100 ms until the server cuts it off. */
async function slowHeaders(): Promise<void> {
  const raw = await openRaw(srv.port)
  await raw.write('GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ')
  const drip = setInterval(() => void raw.write('a'), 100)
  try {
    await within(raw.closed, 8000, 'the slow client to be cut off')
  } finally {
    clearInterval(drip)
    raw.destroy()
  }
}

const json = (path: string, body: string, method = 'POST', headers: Record<string, string> = {}) =>
  request(srv.url, method, path, { raw: body, headers: { 'content-type': 'application/json', ...headers } })

test('burst › a burst of bad requests of every kind should leave /healthz answering and a connected client served without interruption', async () => {
  const user = await registerUser(srv.url, 'steady-user')
  await registerUser(srv.url, 'target-user')
  const prototypeBefore = Object.getOwnPropertyNames(Object.prototype).sort()
  // A connected WebSocket client too: it must keep its socket and its answers through the burst.
  const device = await registerUser(srv.url, 'steady-device')
  const { client: socket } = await connectOk(srv.url, { token: device.token, username: device.username })
  socket.ignore('devices')

  // The connected client: one keep-alive connection asking for its session over and over.
  const steady = await openRaw(srv.port)
  const steadyRequest = `GET /session HTTP/1.1\r\nHost: x\r\nToken: ${user.token}\r\nUsername: steady-user\r\n\r\n`
  let burstDone = false
  let answered = 0
  const steadyLoop = (async () => {
    while (!burstDone || answered < 5) {
      await steady.write(steadyRequest)
      const expected = answered + 1
      await waitFor(() => responseCount(steady.received()) >= expected || steady.isClosed(), 5000, 'the steady client to be answered')
      if (steady.isClosed()) throw new Error('the steady client was disconnected')
      answered = expected
    }
  })()

  const times = <T>(n: number, f: (i: number) => Promise<T>) => Array.from({ length: n }, (_, i) => f(i))
  const huge = 'x'.repeat(17 * 1024)
  const burst = [
    ...times(4, () => slowHeaders()),
    ...times(4, () => rawShot('')), // connects and says nothing
    ...times(4, () => rawShot(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20 * 1024)}\r\n\r\n`)),
    ...times(4, () => rawShot(Buffer.from('GET /healthz HTTP/1.1\r\nHost: x\r\nUser-Agent: a\x01b\r\n\r\n', 'latin1'))),
    ...times(4, () => rawShot(Buffer.from('GET /session HTTP/1.1\r\nHost: x\r\nUser-Agent: a\x9bb\r\nConnection: close\r\n\r\n', 'latin1'))),
    ...times(4, () => rawShot(`GET /session HTTP/1.1\r\nHost: x\r\nToken: ${user.token}\r\nToken: x\r\nUsername: steady-user\r\nConnection: close\r\n\r\n`)),
    ...times(4, () => rawShot('POST /session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 99999999\r\n\r\n{')),
    ...times(4, () =>
      rawShot(
        `POST /session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${(huge.length + 2).toString(16)}\r\n{"${huge}\r\n`,
      ),
    ),
    ...times(4, () => rawShot('\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 not http at all\r\n\r\n')),
    ...times(4, () => rawShot('BREW /pot HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')),
    ...times(4, () => request(srv.url, 'GET', `/session?token=${user.token}`, { headers: { Username: 'steady-user' } })),
    ...times(4, () => json('/session', '{"username": "steady-user", "password": ')),
    ...times(4, () => request(srv.url, 'POST', '/session', { raw: '{"username":"a","password":"b"}', headers: { 'content-type': 'text/plain' } })),
    ...times(4, () =>
      json('/session', '{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},"username":"nobody","password":"password-123"}'),
    ),
    ...times(4, () => json('/session', JSON.stringify({ username: 'steady-user', password: 'é'.repeat(40) }))),
    ...times(4, (i) => json('/session', JSON.stringify({ username: ['jürgen', 'x'.repeat(500), '_a', 'ＡＢＣ'][i], password: 'password-123' }))),
    ...times(8, () => json('/session', JSON.stringify({ username: 'target-user', password: 'wrong-password' }))),
    ...times(4, (i) => json('/user/register', JSON.stringify({ username: `burst-${i}`, password: 'password-123' }))),
    ...times(4, () => json('/api/session', JSON.stringify({ email: 42, password: null }))),
    // Bad upgrades: unknown token, forged Origin, token in the URL, and a flood past the per-IP upgrade rate.
    ...times(4, () => connect(srv.url, { token: 'x'.repeat(43), username: 'steady-device' })),
    ...times(4, () => connect(srv.url, { token: device.token, username: device.username, headers: { Origin: 'https://evil.example' } })),
    ...times(4, () => connect(srv.url, { token: device.token, username: device.username, path: `/ws?token=${device.token}` })),
    ...times(4, () => connect(srv.url, { token: device.token, username: device.username, protocols: ['chatgate.v1', `token.${device.token}`] })),
  ]
  const outcomes = await within(Promise.allSettled(burst), 30_000, 'the burst to end')
  burstDone = true
  await within(steadyLoop, 15_000, 'the steady client to finish')

  const failures = outcomes.filter((o) => o.status === 'rejected').map((o) => String((o as PromiseRejectedResult).reason))
  assert.equal(failures, [], 'a bad connection was not closed by the server')
  const statuses = outcomes.flatMap((o) => (o.status === 'fulfilled' && o.value ? [(o.value as { status: number }).status] : []))
  assert.ok(!statuses.includes(500), `a bad request produced a 500: ${statuses}`)
  assert.ok(statuses.includes(429), 'the burst never reached a rate limit')

  // The connected client was answered every time, on the same connection, with 200.
  const steadyStatuses = steady.received().match(/HTTP\/1\.1 (\d{3})/g) ?? []
  assert.ok(steadyStatuses.length >= 5, `the steady client got only ${steadyStatuses.length} answers`)
  assert.ok(
    steadyStatuses.every((s) => s === 'HTTP/1.1 200'),
    `the steady client saw ${[...new Set(steadyStatuses)]}`,
  )
  assert.is(steady.isClosed(), false)
  steady.destroy()

  // The WebSocket client still has its socket: it was never closed, and ping still gets pong.
  await socket.roundTrip()
  assert.is(socket.ws.readyState, socket.ws.OPEN)
  assert.ok(statuses.includes(401) && statuses.includes(403), `the bad upgrades were refused: ${statuses}`)
  socket.ws.terminate()

  assert.is((await request(srv.url, 'GET', '/healthz')).status, 200)
  assert.equal(Object.getOwnPropertyNames(Object.prototype).sort(), prototypeBefore)
})

test.run()
