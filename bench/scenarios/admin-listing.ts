import { randomUUID } from 'node:crypto'
import { copyFileSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { httpCall, keepAliveAgent } from '../client/http.js'
import { FIXTURE_PASSWORD } from '../fixtures.js'
import { spreadOrNull, type Row } from '../report.js'
import { summarizeLatencies } from '../stats.js'
import { startOn, type RunContext } from './context.js'

/** Nodes the inserted rows belong to: live (heartbeat a year ahead), and not the bench node, which clears its own rows at start. */
const PEERS = ['peer-1', 'peer-2', 'peer-3', 'peer-4']

/** Inserts `n` connection rows directly, spread over the fixture's sessions and PEERS. */
export function insertConnectionRows(dbPath: string, sessions: { sessionId: string; userId: string }[], n: number, now = Date.now()): void {
  const db = new Database(dbPath)
  try {
    const node = db.prepare('INSERT OR REPLACE INTO nodes (id, started_at, heartbeat_at) VALUES (?, ?, ?)')
    const conn = db.prepare(
      "INSERT INTO connections (id, session_id, user_id, node_id, ip, user_agent, connected_at) VALUES (?, ?, ?, ?, '127.0.0.1', 'chatgate-bench', ?)",
    )
    db.transaction(() => {
      for (const id of PEERS) node.run(id, now, now + 365 * 86_400_000)
      for (let i = 0; i < n; i++) {
        const s = sessions[i % sessions.length]!
        conn.run(randomUUID(), s.sessionId, s.userId, PEERS[i % PEERS.length]!, now - i)
      }
    })()
    db.pragma('wal_checkpoint(TRUNCATE)')
  } finally {
    db.close()
  }
}

/**
 * Scenario 7: the admin device listing (`GET /admin/devices?limit=100`, one request at a time,
 * from a backoffice session) with N connection rows of live nodes in the store.
 */
export async function adminListingScenario(ctx: RunContext): Promise<Row[]> {
  const p = ctx.profile.admin
  const dbPath = join(ctx.workDir, 'admin-listing.db')
  copyFileSync(ctx.fixture.dbPath, dbPath)
  let t = performance.now()
  insertConnectionRows(dbPath, ctx.fixture.credentials, p.connectionRows)
  ctx.log(`  ${p.connectionRows.toLocaleString('en-US')} connection rows inserted in ${((performance.now() - t) / 1000).toFixed(1)} s`)
  const server = await startOn(ctx, 'chatgate', dbPath, true)
  const agent = keepAliveAgent(1)
  try {
    const login = await httpCall(agent, server.httpUrl, 'POST', '/api/backoffice/session', {}, { username: 'admin', password: FIXTURE_PASSWORD })
    if (login.status !== 201) throw new Error(`backoffice login: ${login.status} ${login.body.slice(0, 200)}`)
    const token = (JSON.parse(login.body) as { data: { token: string }[] }).data[0]!.token
    const headers = { Token: token, Username: 'admin' }
    const ms: number[] = []
    t = performance.now()
    for (let i = 0; i < p.samples; i++) {
      const start = performance.now()
      const res = await httpCall(agent, server.httpUrl, 'GET', '/admin/devices?limit=100', headers)
      ms.push(performance.now() - start)
      if (res.status !== 200) throw new Error(`GET /admin/devices: ${res.status} ${res.body.slice(0, 200)}`)
      const body = (JSON.parse(res.body) as { result: { devices: unknown[]; next_cursor: string | null } }).result
      if (body.devices.length !== Math.min(100, p.connectionRows) || (p.connectionRows > 100 && !body.next_cursor)) {
        throw new Error(`GET /admin/devices listed ${body.devices.length} devices, next_cursor ${body.next_cursor}`)
      }
    }
    const logged = server.loggedErrors()
    if (logged.length > 0) throw new Error(`chatgate logged an error: ${logged[0]!.slice(0, 120)}`)
    const lat = summarizeLatencies(ms)
    ctx.log(
      `  GET /admin/devices?limit=100 over ${p.connectionRows.toLocaleString('en-US')} rows: p50 ${lat.p50.toFixed(2)} ms, p99 ${lat.p99.toFixed(2)} ms (${lat.count})`,
    )
    const k = `${(p.connectionRows / 1000).toLocaleString('en-US')}k`
    return [
      { scenario: '7 admin listing', metric: `GET /admin/devices?limit=100 p50 ms, ${k} connection rows`, value: spreadOrNull([lat.p50]), digits: 2 },
      {
        scenario: '7 admin listing',
        metric: `GET /admin/devices?limit=100 p99 ms, ${k} connection rows`,
        value: spreadOrNull([lat.p99]),
        target: { on: 'value', op: '<', limit: 50 },
        digits: 2,
      },
    ]
  } finally {
    agent.destroy()
    await server.stop()
  }
}
