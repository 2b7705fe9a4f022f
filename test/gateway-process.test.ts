import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { openStore } from '../src/store/open.js'
import type { Store } from '../src/store/types.js'
import { startNodeProcess, type NodeProcess } from './helpers/node-process.js'
import { login, registerUser } from './helpers/http.js'
import { startServer } from './helpers/server.js'
import { connectOk, waitFor, within } from './helpers/ws.js'

const liveRows = async (store: Store) => (await store.listConnections({ limit: 100, aliveSince: 0 })).rows

test('gateway › should close sockets with 1001 on SIGTERM, remove its rows and exit 0', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'chatgate-sigterm-'))
  const dbPath = join(dir, 'chatgate.db')
  let srv: NodeProcess | undefined
  try {
    srv = await startNodeProcess({ DATABASE_URL: dbPath, NODE_ID: 'sigterm-node' })
    const u = await registerUser(srv.url, 'sig', 'password-123', 'one')
    const v = await registerUser(srv.url, 'term', 'password-123', 'two')
    const a = await connectOk(srv.url, { token: u.token, username: 'sig' })
    const b = await connectOk(srv.url, { token: v.token, username: 'term' })
    srv.proc.kill('SIGTERM')
    assert.equal(await a.client.waitClose(5_000), { code: 1001, reason: 'GOING_AWAY' })
    assert.equal(await b.client.waitClose(5_000), { code: 1001, reason: 'GOING_AWAY' })
    assert.is((await within(srv.exited, 15_000, 'the process to exit')).code, 0, srv.output())
    const store = await openStore(dbPath)
    try {
      assert.is((await liveRows(store)).length, 0)
      assert.equal([...(await store.countUserConnections(u.userId, 0))], [])
    } finally {
      await store.close()
    }
  } finally {
    if (srv?.proc.exitCode === null) srv.proc.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  }
})

test('gateway › should clean the rows a crashed run of the same node left, on the next start', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'chatgate-crash-'))
  const dbPath = join(dir, 'chatgate.db')
  let srv: NodeProcess | undefined
  try {
    srv = await startNodeProcess({ DATABASE_URL: dbPath, NODE_ID: 'crashy' })
    const u = await registerUser(srv.url, 'kim', 'password-123', 'phone')
    const s = await connectOk(srv.url, { token: u.token, username: 'kim' })
    const store = await openStore(dbPath)
    try {
      const rowsOf = async () => (await liveRows(store)).filter((r) => r.nodeId === 'crashy')
      await waitFor(async () => (await rowsOf()).length > 0, 3_000, 'the row of the live socket')
      assert.equal(
        (await rowsOf()).map((r) => r.id),
        [s.welcome.connection_id],
      )
      srv.proc.kill('SIGKILL')
      await within(srv.exited, 5_000, 'the killed process')
      await s.client.waitClose(5_000)
      assert.is((await rowsOf()).length, 1, 'a crash leaves the row behind')
      const again = await startServer({ NODE_ID: 'crashy', DATABASE_URL: dbPath }, { dir })
      try {
        assert.is((await rowsOf()).length, 0, 'the restart of the same node removed it')
        const fresh = await connectOk(again.url, { token: u.token, username: 'kim' })
        const mine = fresh.welcome.devices.find((d: any) => d.session_id === u.sessionId)
        assert.is(mine.connections, 1, 'the stale row is not counted')
        await fresh.client.close()
      } finally {
        await again.close()
      }
    } finally {
      await store.close()
    }
  } finally {
    if (srv?.proc.exitCode === null) srv.proc.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  }
})

test('gateway › should hold exactly the live sockets in the connections table after a burst of 200 connects and disconnects', async () => {
  const srv = await startServer({ MAX_CONNECTIONS_PER_USER: '100' })
  try {
    const device = { deviceName: 'burst', userAgent: 'test', ip: '127.0.0.1' }
    const sessions = []
    for (const name of ['burst_a', 'burst_b', 'burst_c', 'burst_d']) {
      await srv.app.accounts.createUser({ username: name, password: 'password-123' })
      for (let i = 0; i < 50; i++) {
        const r = await srv.app.sessions.login({ username: name }, 'password-123', device)
        if (!r.ok) throw new Error(r.failure)
        sessions.push({ token: r.issued.token, username: name })
      }
    }
    const opened = await Promise.all(sessions.map((s) => connectOk(srv.url, s)))
    assert.is(srv.app.gateway.registry.size, 200)
    // Half leave: some close cleanly, some vanish without a close frame.
    const leaving = opened.filter((_, i) => i % 2 === 1)
    const staying = opened.filter((_, i) => i % 2 === 0)
    for (const [i, o] of leaving.entries()) {
      if (i % 3 === 0) o.client.ws.terminate()
      else o.client.ws.close(1000)
    }
    // And a second burst connects and leaves at once (often before its row was ever written).
    const flash = await Promise.all(
      sessions
        .slice(0, 40)
        .filter((_, i) => i % 2 === 1)
        .map((s) => connectOk(srv.url, s)),
    )
    for (const o of flash) o.client.ws.close(1000)
    await Promise.all([...leaving, ...flash].map((o) => o.client.waitClose(5_000)))
    await waitFor(() => srv.app.gateway.registry.size === 100, 5_000, 'the registry to hold the 100 live sockets')
    await srv.app.gateway.flush()
    const expected = staying.map((o) => o.welcome.connection_id).sort()
    assert.equal([...srv.app.gateway.registry.values()].map((c) => c.id).sort(), expected)
    const rows = (await srv.app.store.listConnections({ limit: 1_000, aliveSince: 0 })).rows
    assert.equal(rows.map((r) => r.id).sort(), expected)
    assert.ok(rows.every((r) => r.nodeId === srv.app.gateway.nodeId))
    await Promise.all(staying.map((o) => o.client.close()))
  } finally {
    await srv.close()
  }
})

test('gateway › should terminate a peer that stops answering pings while a responsive one stays', async () => {
  const srv = await startServer({ HEARTBEAT_MS: '150' })
  try {
    const deaf = await registerUser(srv.url, 'deaf', 'password-123', 'deaf')
    const alive = await login(srv.url, 'deaf', 'password-123', 'alive')
    const good = await connectOk(srv.url, { token: alive.token, username: 'deaf' })
    const started = Date.now()
    const bad = await connectOk(srv.url, { token: deaf.token, username: 'deaf', ws: { autoPong: false } })
    assert.is(bad.welcome.heartbeat_ms, 150)
    const closed = await bad.client.waitClose(5_000)
    const elapsed = Date.now() - started
    assert.is(closed.code, 1006, 'cut without a close frame')
    assert.ok(elapsed >= 2 * 150, `not before two pings went unanswered (${elapsed} ms)`)
    // Its device went offline for the user's other socket, which kept answering and stays.
    await waitFor(
      () => good.client.messages.some((m) => m.type === 'devices' && m.devices.find((d: any) => d.session_id === deaf.sessionId)?.online === false),
      3_000,
      'a devices frame with the deaf device offline',
    )
    await good.client.roundTrip()
    assert.is(good.client.closeInfo, null)
    assert.ok(srv.logs.some((l) => l.includes('"cause":"heartbeat"')))
    await good.client.close()
  } finally {
    await srv.close()
  }
})

test.run()
