import { randomBytes } from 'node:crypto'
import fc from 'fast-check'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { fuzzCase, renderRequest, type FuzzCase, type FuzzSecrets } from './helpers/fuzz-requests.js'
import { backofficeLogin, login, registerUser, request } from './helpers/http.js'
import { closesConnection, parseResponses, type WireParse, type WireResponse } from './helpers/http-responses.js'
import { openRaw } from './helpers/raw-socket.js'
import { startServer, type TestServer } from './helpers/server.js'
import { within } from './helpers/wait-for.js'
import { connectOk, type TestClient } from './helpers/ws.js'

// ── the oracle itself: a parser that can say no ──

const parser = suite('fuzz oracle › response parser')
const bytes = (s: string) => Buffer.from(s, 'latin1')

parser('should read Content-Length, chunked and close-delimited bodies, and stop at a 101', () => {
  const two = parseResponses(
    bytes(
      'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhiHTTP/1.1 404 Not Found\r\ntransfer-encoding: chunked\r\n\r\n2;x=y\r\nab\r\n1\r\nc\r\n0\r\nT: 1\r\n\r\n',
    ),
    { closed: false },
  )
  assert.is(two.problem, null)
  assert.equal(
    two.responses.map((r) => [r.status, r.body.toString()]),
    [
      [200, 'hi'],
      [404, 'abc'],
    ],
  )
  const tail = parseResponses(bytes('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nConnection: close\r\n\r\nrest'), { closed: true })
  assert.equal(
    tail.responses.map((r) => [r.status, r.body.toString()]),
    [
      [100, ''],
      [200, 'rest'],
    ],
  )
  assert.ok(closesConnection(tail.responses[1]!))
  const head = parseResponses(bytes('HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 10\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'), {
    closed: true,
    bodiless: (n) => n === 0,
  })
  assert.equal(
    head.responses.map((r) => r.status),
    [405, 200],
  )
  const up = parseResponses(bytes('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x05hello'), { closed: false })
  assert.ok(up.switched)
  assert.is(up.problem, null)
})

parser('should wait for more bytes while open, and call anything cut off or malformed a problem', () => {
  assert.ok(parseResponses(bytes('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab'), { closed: false }).partial)
  const problems: [string, boolean][] = [
    ['HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab', true],
    ['HTTP/1.1 200 OK\r\nContent-Le', true],
    ['HTTP/1.0 200 OK\r\n\r\n', false],
    ['garbage', false],
    ['HTTP/1.1 20 OK\r\n\r\n', false],
    ['HTTP/1.1 200 OK\r\nBad Header: x\r\n\r\n', false],
    ['HTTP/1.1 200 OK\r\nX: a\x00b\r\n\r\n', false],
    ['HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab', false],
    ['HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n', false],
    ['HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', false],
    ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', false],
    ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n', false],
    ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n', true],
    ['HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n', false],
    ['HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 400 Bad\r\nContent-Length: 3\r\n\r\nab', true],
    ['HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n{"x":1}', true],
  ]
  for (const [text, closed] of problems) {
    assert.type(parseResponses(bytes(text), { closed }).problem, 'string', JSON.stringify(text))
  }
})

parser.run()

// ── the fuzz run ──

const fuzz = suite('http fuzz › no request stops the server')

const SEED = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : randomBytes(4).readInt32LE()
const RUNS = Number(process.env.FUZZ_RUNS ?? 300)
/** A case whose answer neither completes nor closes within this fails (the server's own timeouts are far shorter). */
const CASE_TIMEOUT_MS = 5_000
/** Sent after a keep-alive answer, so the server answers it and closes: the case ends without waiting for idle timeouts. */
const SENTINEL = Buffer.from('GET /healthz HTTP/1.1\r\nHost: fuzz\r\nConnection: close\r\n\r\n')
const MAX_SENTINELS = 3

let srv: TestServer
let watcher: TestClient
let listener: { token: string; username: string; client: TestClient }
const secrets: FuzzSecrets = { token: '', adminToken: '', serviceToken: randomBytes(24).toString('hex'), sessionId: '', port: 0 }

fuzz.before(async () => {
  srv = await startServer({
    // Incomplete requests end quickly; a keep-alive socket left idle by a case closes soon too.
    HTTP_HEADERS_TIMEOUT_MS: '300',
    HTTP_REQUEST_TIMEOUT_MS: '500',
    HTTP_KEEPALIVE_TIMEOUT_MS: '500',
    CHATGATE_SERVICE_TOKEN: secrets.serviceToken,
    // The watcher pings once per case.
    WS_MESSAGES_PER_10S: '100000',
    LOG_LEVEL: 'info',
  })
  secrets.port = srv.port
  // The watched user's name and credentials appear in no generated request.
  const watched = await registerUser(srv.url, `w-${randomBytes(6).toString('hex')}`)
  watcher = (await connectOk(srv.url, { token: watched.token, username: watched.username })).client.ignore('devices')
  // Pushes go to the listener's open socket (the watcher's user appears in no request).
  const l = await registerUser(srv.url, 'listener')
  listener = { ...l, client: (await connectOk(srv.url, { token: l.token, username: l.username })).client }
  // Registered on the Dialogram dialect, so that it has an email to log in with there.
  const fuzzer = await request(srv.url, 'POST', '/api/user', { body: { nickName: 'fuzzer', email: 'fuzzer@example.com', password: 'password-123' } })
  assert.is(fuzzer.status, 201, JSON.stringify(fuzzer.body))
  const [session] = fuzzer.body.includes
  Object.assign(secrets, { token: session.token, sessionId: session.id, adminToken: (await backofficeLogin(srv.url)).token })
})
fuzz.after(async () => {
  await watcher.close()
  await listener.client.close()
  await srv.close()
})

/**
 * Cases may log out, disable or revoke the fuzzing user and the admin (a case may disable the fuzzing
 * user, or the admin while another admin exists): enable them and give them live sessions again.
 */
async function restoreCredentials(): Promise<void> {
  const { store, sessions, accounts } = srv.app
  for (const name of ['fuzzer', 'admin']) {
    const user = await store.findUserByUsername(name)
    if (user?.disabled) await accounts.setDisabled(user.id, false)
  }
  if (!(await sessions.authenticate(secrets.token, 'fuzzer'))) {
    const again = await login(srv.url, 'fuzzer')
    Object.assign(secrets, { token: again.token, sessionId: again.sessionId })
  }
  if (!(await sessions.authenticate(secrets.adminToken, 'admin'))) secrets.adminToken = (await backofficeLogin(srv.url)).token
  if (listener.client.closeInfo) listener.client = (await connectOk(srv.url, { token: listener.token, username: listener.username })).client
}

interface Exchange {
  sent: Buffer
  received: Buffer
  parsed: WireParse
  /** True when the first answer is to a HEAD request, so has no content. */
  headFirst: boolean
}

/**
 * A request node's parser refused (src/http/client-error.ts): 400 with the envelope, then close. The
 * server cannot know that such a request was HEAD, so its answer may carry the envelope anyway.
 */
const isParserRefusal = (r: WireResponse | undefined) =>
  r !== undefined && r.status === 400 && closesConnection(r) && /not valid HTTP|headers are too large/.test(r.body.toString())

/**
 * Sends the case's bytes on a fresh connection and waits until the server has closed it or switched
 * protocols, sending the sentinel after each keep-alive answer. Fails after CASE_TIMEOUT_MS.
 */
async function exchange(c: FuzzCase): Promise<Exchange> {
  const sent = Buffer.concat([renderRequest(c.first, secrets), c.second ? renderRequest(c.second, secrets) : Buffer.alloc(0)])
  const raw = await openRaw(srv.port)
  const isHead = c.first.method === 'HEAD'
  const read = (): Exchange => {
    const received = Buffer.from(raw.received(), 'latin1')
    const closed = raw.isClosed()
    const parsed = parseResponses(received, { closed, bodiless: (n) => isHead && n === 0 })
    if (isHead && parsed.problem) {
      const framed = parseResponses(received, { closed })
      if (framed.problem === null && isParserRefusal(framed.responses[0])) return { sent, received, parsed: framed, headFirst: false }
    }
    return { sent, received, parsed, headFirst: isHead }
  }
  let sentinels = 0
  let answered = 0
  const settled = new Promise<Exchange>((resolve) => {
    const check = () => {
      const now = read()
      const { parsed } = now
      if (parsed.problem !== null || parsed.switched || raw.isClosed()) return resolve(now)
      const finals = parsed.responses.filter((r) => r.status >= 200)
      if (parsed.partial || finals.length === answered) return
      answered = finals.length
      if (!closesConnection(finals.at(-1)!) && sentinels < MAX_SENTINELS) {
        sentinels++
        void raw.write(SENTINEL)
      }
    }
    raw.socket.on('data', check)
    void raw.closed.then(check)
  })
  try {
    const cut = c.splitAt === undefined ? sent.length : c.splitAt % (sent.length + 1)
    await raw.write(sent.subarray(0, cut))
    if (cut < sent.length) await raw.write(sent.subarray(cut))
    return await within(settled, CASE_TIMEOUT_MS, 'the server to answer in full and close')
  } catch (err) {
    const got = read().received.toString('latin1')
    throw new Error(`${(err as Error).message}; received so far: ${JSON.stringify(got.slice(0, 1_000))}`)
  } finally {
    raw.destroy()
  }
}

/** Why the answers break the contract, or null: malformed HTTP, a 5xx, an error without envelope, a 101 without credentials. */
function answerProblem({ sent, parsed, headFirst }: Exchange): string | null {
  if (parsed.problem) return `malformed answer: ${parsed.problem}`
  const finals = parsed.responses.filter((r) => r.status >= 200)
  for (const [n, r] of finals.entries()) {
    if (r.status >= 500) return `answered ${r.status}`
    if (r.status === 101 && !sent.includes(secrets.token)) return 'switched protocols for a request without the fuzzing user’s token'
    const bodiless = headFirst && n === 0
    if (r.status >= 400 && !bodiless && !isErrorEnvelope(r.body))
      return `a ${r.status} without the error envelope: ${JSON.stringify(r.body.toString('latin1').slice(0, 200))}`
  }
  return null
}

/** True for the nullptr or the Dialogram error envelope. */
function isErrorEnvelope(body: Buffer): boolean {
  try {
    const json = JSON.parse(body.toString('utf8'))
    return (json.error === true && typeof json.error_info?.error_code === 'string') || typeof json.errors?.[0]?.code === 'string'
  } catch {
    return false
  }
}

/** What must still hold after any case: health, the open socket, no backstop, no error logged. */
async function serverProblem(logsBefore: number): Promise<string | null> {
  const health = await request(srv.url, 'GET', '/healthz')
  if (health.status !== 200) return `GET /healthz answered ${health.status}`
  try {
    await watcher.roundTrip()
  } catch (err) {
    return `the open WebSocket did not answer a ping: ${(err as Error).message}`
  }
  const fresh = srv.logs.slice(logsBefore)
  const bad = fresh.find((l) => l.includes('"event":"backstop"') || /"level":(5|6)0/.test(l))
  if (bad) return `the server logged: ${bad.slice(0, 500)}`
  const metrics: string = (await request(srv.url, 'GET', '/metrics')).body
  if (!metrics.includes('# TYPE chatgate_unhandled_errors_total counter')) return 'no chatgate_unhandled_errors_total in /metrics'
  const fired = metrics.split('\n').find((l) => l.startsWith('chatgate_unhandled_errors_total') && !l.endsWith(' 0'))
  return fired ? `the backstop fired: ${fired}` : null
}

fuzz(`http fuzz › every request gets well-formed answers and leaves the server serving (seed ${SEED}, ${RUNS} runs)`, async () => {
  console.log(`http fuzz: seed ${SEED}, ${RUNS} runs (replay with FUZZ_SEED=${SEED})`)
  const started = Date.now()
  // How the cases were answered (first status of each): shows what the run reached.
  const tally = new Map<string, number>()
  await fc.assert(
    fc.asyncProperty(fuzzCase, async (c) => {
      await restoreCredentials()
      const logsBefore = srv.logs.length
      const ex = await exchange(c)
      const first = String(ex.parsed.responses.find((r) => r.status >= 200 || r.status === 101)?.status ?? 'no answer')
      tally.set(first, (tally.get(first) ?? 0) + 1)
      const problem = answerProblem(ex) ?? (await serverProblem(logsBefore))
      if (problem) {
        throw new Error(
          `${problem}\n  sent: ${JSON.stringify(ex.sent.toString('latin1').slice(0, 2_000))}\n  received: ${JSON.stringify(ex.received.toString('latin1').slice(0, 2_000))}`,
        )
      }
    }),
    { seed: SEED, numRuns: RUNS, includeErrorInReport: true },
  )
  const seen = [...tally].sort(([a], [b]) => a.localeCompare(b)).map(([k, n]) => `${k}: ${n}`)
  console.log(`http fuzz: ${RUNS} cases in ${Date.now() - started} ms; first answers ${seen.join(', ')}`)
})

fuzz.run()
