import Database from 'better-sqlite3'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { dial, type TargetSpec } from '../bench/client/dial.js'
import { runHandshakes } from '../bench/client/handshake.js'
import { buildFixture, type Fixture } from '../bench/fixtures.js'
import { startServer, type RunningServer } from '../bench/processes.js'

let dir: string
let fixture: Fixture
let bare: RunningServer
let sio: RunningServer
let same: RunningServer

test.before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'chatgate-bench-refs-'))
  fixture = buildFixture(join(dir, 'f.db'), { tokenUsers: 6, fillerSessions: 10, loginAccounts: 0, bcryptCost: 4 })
  // Revoke the last token's session, as chatgate would.
  const db = new Database(fixture.dbPath)
  db.prepare("UPDATE sessions SET revoked_at = ?, revoked_reason = 'logout' WHERE id = ?").run(Date.now(), fixture.credentials[5]!.sessionId)
  db.close()
  ;[bare, sio, same] = await Promise.all([
    startServer({ kind: 'ws', dbPath: fixture.dbPath, cpu: null }),
    startServer({ kind: 'socketio', dbPath: fixture.dbPath, cpu: null }),
    startServer({ kind: 'samework', dbPath: fixture.dbPath, cpu: null }),
  ])
})
test.after(async () => {
  await Promise.all([bare?.stop(), sio?.stop(), same?.stop()])
  rmSync(dir, { recursive: true, force: true })
})

const sioTarget = (client: TargetSpec['client']): TargetSpec => ({ protocol: 'socketio', url: sio.dialUrl, client })

async function refusal(target: TargetSpec, cred: { token: string; username: string }): Promise<string> {
  try {
    const conn = await dial(target, cred)
    await conn.close()
  } catch (e) {
    return (e as Error).message
  }
  throw new Error('the handshake was accepted')
}

test('bench references › bare ws should welcome any client, with both load generators', async () => {
  for (const client of ['wire', 'library'] as const) {
    const conn = await dial({ protocol: 'ws', url: bare.dialUrl, client }, { token: 'anything', username: 'anyone' })
    assert.is(await conn.close(), 1000)
  }
})

test('bench references › Socket.IO should welcome a valid token, with both load generators', async () => {
  const [a] = fixture.credentials
  for (const client of ['wire', 'library'] as const) {
    const conn = await dial(sioTarget(client), a!)
    await conn.close()
  }
})

test('bench references › Socket.IO should refuse a token with another username, an unknown token and a revoked session', async () => {
  const [a, b] = fixture.credentials
  for (const client of ['wire', 'library'] as const) {
    assert.match(await refusal(sioTarget(client), { token: a!.token, username: b!.username }), /UNAUTHORIZED/)
    assert.match(await refusal(sioTarget(client), { token: 'x'.repeat(43), username: a!.username }), /UNAUTHORIZED/)
    assert.match(await refusal(sioTarget(client), fixture.credentials[5]!), /UNAUTHORIZED/)
  }
})

const sameTarget = (client: TargetSpec['client']): TargetSpec => ({ protocol: 'ws', url: same.dialUrl, client })

/** Connection rows of the fixture's sessions, as the same-work reference writes them. */
function connectionRows(sessionId: string): number {
  const db = new Database(fixture.dbPath, { readonly: true })
  try {
    return (db.prepare('SELECT count(*) AS n FROM connections WHERE session_id = ?').get(sessionId) as { n: number }).n
  } finally {
    db.close()
  }
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (check()) return
    await new Promise((r) => setTimeout(r, 25))
  }
  throw new Error(`timed out waiting for ${what}`)
}

test('bench references › same-work should welcome a valid token with the device list and keep one row per live socket', async () => {
  const a = fixture.credentials[0]!
  for (const client of ['wire', 'library'] as const) {
    const conn = await dial(sameTarget(client), a)
    await until(() => connectionRows(a.sessionId) === 1, 'the connection row')
    await conn.close()
    await until(() => connectionRows(a.sessionId) === 0, 'the row to be removed')
  }
  // The welcome carries the user's devices, read in the same statement as the token.
  const { default: WebSocket } = await import('ws')
  const ws = new WebSocket(same.dialUrl, { headers: { Token: a.token, Username: a.username } })
  const welcome = await new Promise<{ type: string; session_id: string; devices: { session_id: string; online: boolean }[] }>((resolve, reject) => {
    ws.once('message', (d) => resolve(JSON.parse(String(d))))
    ws.once('error', reject)
  })
  ws.close()
  assert.is(welcome.type, 'welcome')
  assert.is(welcome.session_id, a.sessionId)
  assert.equal(
    welcome.devices.map((d) => d.session_id),
    [a.sessionId],
  )
})

test('bench references › same-work should refuse a token with another username, an unknown token and a revoked session', async () => {
  const [a, b] = fixture.credentials
  assert.match(await refusal(sameTarget('wire'), { token: a!.token, username: b!.username }), /401/)
  assert.match(await refusal(sameTarget('wire'), { token: 'x'.repeat(43), username: a!.username }), /401/)
  assert.match(await refusal(sameTarget('wire'), fixture.credentials[5]!), /401/)
  assert.match(await refusal(sameTarget('library'), fixture.credentials[5]!), /401/)
})

test('bench references › a closed loop of handshakes should count every cycle and no failure', async () => {
  const creds = fixture.credentials.slice(0, 5)
  const r = await runHandshakes({ type: 'handshake', target: sioTarget('wire'), credentials: creds, concurrency: 4, durationMs: 10_000, maxCount: 40 })
  assert.is(r.failed, 0, r.firstError ?? '')
  assert.is(r.completed, 40)
  assert.is(r.latency.count, 40)
  assert.ok(r.latency.p50 > 0 && r.latency.p99 >= r.latency.p50)
})

test('bench references › the probe should report memory after GC and growing CPU time', async () => {
  const m = await bare.memory()
  assert.ok(m.rss > m.heapUsed && m.heapUsed > 0)
  const c1 = await sio.cpuTime()
  await runHandshakes({
    type: 'handshake',
    target: sioTarget('wire'),
    credentials: fixture.credentials.slice(0, 5),
    concurrency: 2,
    durationMs: 10_000,
    maxCount: 20,
  })
  const c2 = await sio.cpuTime()
  assert.ok(c2.user + c2.system > c1.user + c1.system)
  assert.ok(c2.user >= c1.user && c2.system >= c1.system, 'user and kernel time only grow')
})

test('bench references › the probe should read memory with the young generation committed in full, the same at every reading', async () => {
  // 4 MiB semi-spaces: two of them, touched by the probe's fill before it reads (bench/servers/probe.js).
  const small = await startServer({ kind: 'ws', dbPath: fixture.dbPath, cpu: null, nodeFlags: ['--min-semi-space-size=4', '--max-semi-space-size=4'] })
  try {
    const first = await small.memory()
    const second = await small.memory()
    for (const m of [first, second])
      assert.ok(m.young >= 7.5 * 2 ** 20, `young generation ${(m.young / 2 ** 20).toFixed(1)} MiB at a reading, not both semi-spaces`)
    assert.ok(Math.abs(first.young - second.young) <= 2 ** 20, `young generation ${first.young} then ${second.young} bytes`)
  } finally {
    await small.stop()
  }
})

test.run()
