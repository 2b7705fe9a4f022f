import Database from 'better-sqlite3'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { startNodeProcess, type NodeProcess } from './helpers/node-process.js'
import { authHeaders, request } from './helpers/http.js'
import { waitFor, within } from './helpers/wait-for.js'

interface Issued {
  token: string
  username: string
}

const login = async (url: string, username: string, deviceName = 'storm') => {
  const res = await request(url, 'POST', '/session', { body: { username, password: 'password-123', device_name: deviceName } })
  if (res.status !== 200) throw new Error(`login ${username}: ${res.status}`)
  return { token: res.body.result.session_token as string, username }
}

const register = async (url: string, username: string) => {
  const res = await request(url, 'POST', '/user/register', { body: { username, password: 'password-123' } })
  if (res.status !== 201) throw new Error(`register ${username}: ${res.status}`)
  return { token: res.body.result.session_token as string, username }
}

const status = async (url: string, s: Issued) => (await request(url, 'GET', '/session', { headers: authHeaders(s.token, s.username) })).status

/** Checks many sessions with a few requests in flight at a time; returns the ones that did not give `expected`. */
async function mismatches(url: string, sessions: Issued[], expected: number): Promise<Array<{ s: Issued; got: number }>> {
  const bad: Array<{ s: Issued; got: number }> = []
  for (let i = 0; i < sessions.length; i += 8) {
    const batch = sessions.slice(i, i + 8)
    const got = await Promise.all(batch.map((s) => status(url, s)))
    for (const [j, g] of got.entries()) if (g !== expected) bad.push({ s: batch[j]!, got: g })
  }
  return bad
}

const crash = suite('crash')
const dirs: string[] = []
const children: NodeProcess[] = []

crash.after(() => {
  for (const c of children) if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL')
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

crash('crash › should keep every session a client was told about, and every revocation, across kill -9 mid-storm', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'chatgate-crash-'))
  dirs.push(dir)
  const dbPath = join(dir, 'chatgate.db')
  const first = await startNodeProcess({ DATABASE_URL: dbPath })
  children.push(first)

  // Before the storm: two users, and sessions revoked two different ways.
  const alice = await register(first.url, 'crash-alice')
  const bob = await register(first.url, 'crash-bob')
  const issued: Issued[] = [alice, bob]
  const revoked: Issued[] = []
  const loggedOut = await login(first.url, 'crash-alice', 'phone')
  assert.is((await request(first.url, 'DELETE', '/session', { headers: authHeaders(loggedOut.token, loggedOut.username) })).status, 200)
  revoked.push(loggedOut)
  const bobOld = await login(first.url, 'crash-bob', 'old laptop')
  assert.is((await request(first.url, 'DELETE', '/session/others', { headers: authHeaders(bob.token, bob.username) })).status, 200)
  revoked.push(bobOld)

  // The storm: workers log in (and every third session logs out again) until the process dies.
  let killed = false
  let failedInFlight = 0
  const worker = async (n: number) => {
    for (let i = 0; !killed; i++) {
      let loggingOut: Issued | undefined
      try {
        const s = await login(first.url, n % 2 ? 'crash-alice' : 'crash-bob', `w${n}-${i}`)
        issued.push(s)
        if (i % 3 === 2) {
          loggingOut = s
          const out = await request(first.url, 'DELETE', '/session', { headers: authHeaders(s.token, s.username) })
          if (out.status === 200) {
            issued.splice(issued.indexOf(s), 1)
            revoked.push(s)
          }
          loggingOut = undefined
        }
      } catch {
        // A logout cut off by the kill may or may not have committed: the client was told neither,
        // so that session is in neither list.
        if (loggingOut) issued.splice(issued.indexOf(loggingOut), 1)
        failedInFlight++
        return
      }
    }
  }
  const storm = Promise.all([0, 1, 2, 3, 4, 5].map(worker))
  await waitFor(() => issued.length >= 60 && revoked.length >= 10, 30_000, 'the storm to issue and revoke sessions')
  first.proc.kill('SIGKILL')
  const { signal } = await within(first.exited, 10_000, 'the killed process to exit')
  killed = true
  await within(storm, 10_000, 'the storm workers to stop')
  assert.is(signal, 'SIGKILL')
  assert.ok(failedInFlight >= 1, 'no request was in flight when the process died: not a mid-storm kill')

  // Restart on the same file: every 200 still holds, every revocation still holds.
  const second = await startNodeProcess({ DATABASE_URL: dbPath })
  children.push(second)
  assert.equal(await mismatches(second.url, issued, 200), [], 'sessions lost by the crash')
  assert.equal(await mismatches(second.url, revoked, 401), [], 'revocations lost by the crash')

  second.proc.kill('SIGTERM')
  assert.equal(await within(second.exited, 15_000, 'the restarted server to stop'), { code: 0, signal: null })
  const db = new Database(dbPath, { readonly: true })
  try {
    assert.is(db.pragma('integrity_check', { simple: true }), 'ok')
  } finally {
    db.close()
  }
})

crash('crash › should drain on SIGTERM: in-flight logins finish with 200, new connections are refused, exit 0', async () => {
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

  const late = await request(child.url, 'GET', '/healthz').then(
    (r) => `answered ${r.status}`,
    (e: Error & { cause?: { code?: string } }) => e.cause?.code ?? e.message,
  )
  assert.is(late, 'ECONNREFUSED', 'a new connection during the drain was not refused')

  const answers = await within(Promise.all(inFlight), 30_000, 'the in-flight logins to finish')
  assert.equal(
    answers.map((r) => r.status),
    [200, 200, 200, 200, 200],
  )
  for (const r of answers) assert.type(r.body.result.session_token, 'string')
  assert.equal(await within(child.exited, 30_000, 'the drained server to exit'), { code: 0, signal: null })
})

crash.run()
