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

  const inFlight = Array.from({ length: 5 }, (_, i) =>
    request(child.url, 'POST', '/session', { body: { username: 'drain-user', password: 'password-123', device_name: `d${i}` } }),
  )
  // When the first answer is back, the other four have been received and wait for the one bcrypt worker.
  await within(Promise.race(inFlight), 20_000, 'the first login')
  child.proc.kill('SIGTERM')
  await waitFor(() => child.logs.some((l) => l.event === 'signal'), 10_000, 'the server to start draining')

  // A connection of its own: fetch would reuse the idle keep-alive socket of the first login, which
  // the draining server closes (ECONNRESET), and that says nothing about new connections.
  const late = await new Promise<string>((resolve) => {
    const socket = connect(child.port, '127.0.0.1')
    socket.once('connect', () => {
      socket.destroy()
      resolve('connected')
    })
    socket.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message))
  })
  assert.is(late, 'ECONNREFUSED', 'a new connection during the drain was not refused')

  const answers = await within(Promise.all(inFlight), 30_000, 'the in-flight logins to finish')
  assert.equal(answers.map((r) => r.status), [200, 200, 200, 200, 200])
  for (const r of answers) assert.type(r.body.result.session_token, 'string')
  assert.equal(await within(child.exited, 30_000, 'the drained server to exit'), { code: 0, signal: null })
})

drain.run()
