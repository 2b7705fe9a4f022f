import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { Connection } from '../src/client/connection.js'
import { ChatgateClient, countTraffic, failOnUnhandledRejection, nextEvent } from './helpers/client.js'
import { startServer } from './helpers/server.js'
import { startSwitchProxy } from './helpers/switch-proxy.js'

/**
 * 200 clients on a node that restarts (SIGTERM path: every socket closed with 1001) behind a load
 * balancer that already sends new connections to its replacement: their reconnects must spread over
 * the first backoff window (full jitter: uniform in [0, base)), not arrive as one burst. Counted on
 * the replacement server, as it sees the upgrades. The base is stretched from 0.5 s to 4 s (an SDK
 * option) so that a 2-core machine under other tests can take 200 upgrades at the rate they come:
 * at 0.5 s the server's own queue, not the clients, would shape the arrival times. The default
 * timings are test/client-backoff.test.ts's.
 */
const CLIENTS = 200
const WINDOW_MS = 4_000
const unhandled = failOnUnhandledRejection()

test('spread › 200 clients after a restart should reconnect spread over the backoff window, not synchronised', async () => {
  // One folder for both servers: the same SQLite file, or (CHATGATE_TEST_STORE=postgres) the same schema.
  const dir = mkdtempSync(join(tmpdir(), 'chatgate-spread-'))
  const old = await startServer({ MAX_CONNECTIONS_PER_USER: '1000', MAX_CONNECTIONS_PER_IP: '100000' }, { dir })
  const proxy = await startSwitchProxy(old.port)
  const fresh = await startServer({ MAX_CONNECTIONS_PER_USER: '1000', MAX_CONNECTIONS_PER_IP: '100000' }, { dir })
  const conns: Connection[] = []
  try {
    const clients = Array.from({ length: CLIENTS }, () => new ChatgateClient({ baseUrl: `http://127.0.0.1:${proxy.port}`, reconnect: { baseMs: WINDOW_MS } }))
    for (let i = 0; i < CLIENTS; i += 20) {
      await Promise.all(clients.slice(i, i + 20).map((c, j) => c.register({ username: `spread${i + j}`, password: 'password-123' })))
    }
    await Promise.all(
      clients.map((c) => {
        const conn = c.connect()
        conns.push(conn)
        return nextEvent(conn, 'welcome', 30_000)
      }),
    )
    const closedAt: number[] = []
    for (const conn of conns) conn.on('state', (st) => st === 'reconnecting' && closedAt.push(performance.now()))
    const welcomed = Promise.all(conns.map((conn) => nextEvent(conn, 'welcome', 30_000)))
    const traffic = countTraffic(fresh.app.server)
    proxy.target = fresh.port
    await old.close()
    await welcomed
    traffic.stop()

    // From the first 1001 a client saw (shutting down takes a moment before the sockets close).
    const firstClose = Math.min(...closedAt)
    const closeSpread = Math.max(...closedAt) - firstClose
    const times = traffic.upgrades.map((t) => t - firstClose).sort((a, b) => a - b)
    assert.is(times.length, CLIENTS, 'one upgrade per client: each first attempt succeeds')
    const bins = [0, 1, 2, 3].map((b) => times.filter((t) => t >= (b * WINDOW_MS) / 4 && t < ((b + 1) * WINDOW_MS) / 4).length)
    let densest = 0
    for (let i = 0; i < times.length; i++) densest = Math.max(densest, times.filter((t) => t >= times[i]! && t < times[i]! + 200).length)
    const summary = `quarters of the window: ${bins.join('/')}; densest 200 ms: ${densest}; first ${times[0]!.toFixed(0)} ms, last ${times.at(-1)!.toFixed(0)} ms; closes spread over ${closeSpread.toFixed(0)} ms`
    // Uniform over the window: 50 per quarter expected; fewer than 20 has a probability below 1e-7.
    for (const b of bins) assert.ok(b >= 20, `reconnects not spread over the window: ${summary}`)
    // 10 expected in any 200 ms; a synchronised herd puts most of the 200 in one.
    assert.ok(densest <= 40, `a burst of reconnects: ${summary}`)
    console.log(`  ${summary}`)
  } finally {
    for (const c of conns) c.close()
    await proxy.close()
    await old.close()
    await fresh.close()
    rmSync(dir, { recursive: true, force: true })
  }
  assert.equal(unhandled, [])
})

test.run()
