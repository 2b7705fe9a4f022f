import { mkdtempSync, rmSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { startNodeProcess, type NodeProcess } from './helpers/node-process.js'
import { request } from './helpers/http.js'
import { waitFor, within } from './helpers/wait-for.js'

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

drain('shutdown › should drain on SIGTERM: in-flight logins finish with 200, new connections are refused, exit 0', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'chatgate-drain-'))
  dirs.push(dir)
  // One bcrypt worker at cost 10: the logins queue up behind each other on the server.
  const child = await startNodeProcess({ DATABASE_URL: join(dir, 'chatgate.db'), BCRYPT_COST: '10', HASH_WORKERS: '1', SHUTDOWN_GRACE_MS: '30000' })
  children.push(child)
  await register(child.url, 'drain-user')

  let answered = 0
  const inFlight = Array.from({ length: 5 }, (_, i) =>
    request(child.url, 'POST', '/session', { body: { username: 'drain-user', password: 'password-123', device_name: `d${i}` } }).finally(() => answered++),
  )
  // When the first answer is back, the other four have been received and wait for the one bcrypt worker.
  await within(Promise.race(inFlight), 20_000, 'the first login')
  child.proc.kill('SIGTERM')
  await waitFor(() => child.logs.some((l) => l.event === 'signal'), 10_000, 'the server to start draining')

  // Connections of its own (fetch would reuse the first login's idle keep-alive socket, which the
  // draining server closes). The 'signal' line is written just before the listener closes, so one
  // attempt may still get in: try until one is refused, then check that the drain was still on.
  await waitFor(async () => (await connectOnce(child.port)) === 'ECONNREFUSED', 10_000, 'a new connection during the drain to be refused')
  assert.ok(answered < inFlight.length, 'refused while logins were still in flight, not after the drain')
  assert.is(child.proc.exitCode, null, 'refused while the process was still running')

  const answers = await within(Promise.all(inFlight), 30_000, 'the in-flight logins to finish')
  assert.equal(
    answers.map((r) => r.status),
    [200, 200, 200, 200, 200],
  )
  for (const r of answers) assert.type(r.body.result.session_token, 'string')
  assert.equal(await within(child.exited, 30_000, 'the drained server to exit'), { code: 0, signal: null })
})

drain.run()
