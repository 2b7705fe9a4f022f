import { mkdtempSync, rmSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { startNodeProcess, type NodeProcess } from './helpers/node-process.js'
import { request } from './helpers/http.js'
import { waitFor, within } from './helpers/wait-for.js'
import { connect as upgradeTo, connectOk } from './helpers/ws.js'

const register = async (url: string, username: string) => {
  const res = await request(url, 'POST', '/user/register', { body: { username, password: 'password-123' } })
  if (res.status !== 201) throw new Error(`register ${username}: ${res.status}`)
  return { token: res.body.result.session_token as string, username }
}

/** Opens a TCP connection and closes it: 'connected', or the error code (ECONNREFUSED). */
const connectOnce = (port: number) =>
  new Promise<string>((resolve) => {
    const socket = connect(port, '127.0.0.1')
    socket.once('connect', () => {
      socket.destroy()
      resolve('connected')
    })
    socket.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message))
  })

const drain = suite('shutdown')
const dirs: string[] = []
const children: NodeProcess[] = []

drain.after(() => {
  for (const c of children) if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL')
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

drain('shutdown › should drain on SIGTERM: in-flight logins get 200, newcomers 503 SHUTTING_DOWN, then exit 0', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'chatgate-drain-'))
  dirs.push(dir)
  // One bcrypt worker at cost 10: the logins queue up behind each other on the server.
  const child = await startNodeProcess({ DATABASE_URL: join(dir, 'chatgate.db'), BCRYPT_COST: '10', HASH_WORKERS: '1', SHUTDOWN_GRACE_MS: '30000' })
  children.push(child)
  const user = await register(child.url, 'drain-user')
  const live = await connectOk(child.url, { token: user.token, username: 'drain-user' })

  let answered = 0
  const inFlight = Array.from({ length: 5 }, (_, i) =>
    request(child.url, 'POST', '/session', { body: { username: 'drain-user', password: 'password-123', device_name: `d${i}` } }).finally(() => answered++),
  )
  // When the first answer is back, the other four have been received and wait for the one bcrypt worker.
  await within(Promise.race(inFlight), 20_000, 'the first login')
  child.proc.kill('SIGTERM')
  await waitFor(() => child.logs.some((l) => l.event === 'signal'), 10_000, 'the server to start draining')
  assert.is((await within(live.client.closed, 10_000, 'the live socket to close')).code, 1001)

  // The listener stays open while the logins drain: a new upgrade and a new request hear 503.
  const upgrade = await upgradeTo(child.url, { token: user.token, username: 'drain-user' })
  assert.is(upgrade.status, 503)
  assert.is(upgrade.body.error_info.error_code, 'SHUTTING_DOWN')
  const fresh = await request(child.url, 'POST', '/session', { body: { username: 'drain-user', password: 'password-123' } })
  assert.is(fresh.status, 503)
  assert.is(fresh.body.error_info.error_code, 'SHUTTING_DOWN')
  assert.is(fresh.headers.get('connection'), 'close')
  assert.ok(answered < inFlight.length, 'answered while logins were still in flight, not after the drain')
  assert.is(await connectOnce(child.port), 'connected', 'the listener is still open')

  const answers = await within(Promise.all(inFlight), 30_000, 'the in-flight logins to finish')
  assert.equal(
    answers.map((r) => r.status),
    [200, 200, 200, 200, 200],
  )
  for (const r of answers) assert.type(r.body.result.session_token, 'string')
  assert.equal(await within(child.exited, 30_000, 'the drained server to exit'), { code: 0, signal: null })
  assert.is(await connectOnce(child.port), 'ECONNREFUSED', 'closed once drained')
})

drain.run()
