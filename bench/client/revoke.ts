import { summarizeLatencies, type LatencySummary } from '../stats.js'
import { dial, type ClientCredential, type Conn } from './dial.js'
import { httpCall, keepAliveAgent } from './http.js'

export interface RevokeJob {
  type: 'revoke'
  wsUrl: string
  httpUrl: string
  client: 'wire' | 'library'
  /** Every credential gets a live socket; then each is revoked in turn, one at a time. */
  credentials: ClientCredential[]
}

export interface RevokeResult {
  /** From sending DELETE /session to the client seeing the close (see Conn.closeSeen). */
  latency: LatencySummary
  /** Sockets whose close code was not 4501. */
  wrongCode: number
  /** Sockets that closed although their session had not been revoked yet (must be 0). */
  closedTooEarly: number
  failed: number
  firstError: string | null
}

const SESSION_REVOKED = 4501
const CLOSE_TIMEOUT_MS = 5_000

/**
 * Opens one socket per credential, then for each in turn sends `DELETE /session` with that
 * socket's own Token + Username (log out this device) and measures until its close frame.
 */
export async function runRevokes(job: RevokeJob): Promise<RevokeResult> {
  const agent = keepAliveAgent(1)
  const conns: { conn: Conn; revokedAt: number | null; closedAt: number | null; code: number | null }[] = []
  let failed = 0
  let firstError: string | null = null
  const note = (e: unknown) => {
    failed++
    firstError ??= e instanceof Error ? e.message : String(e)
  }
  for (const cred of job.credentials) {
    try {
      const entry = {
        conn: await dial({ protocol: 'ws', url: job.wsUrl, client: job.client }, cred),
        revokedAt: null as number | null,
        closedAt: null as number | null,
        code: null as number | null,
      }
      void entry.conn.closeSeen.then(({ code, at }) => {
        entry.closedAt = at
        entry.code = code
      })
      conns.push(entry)
    } catch (e) {
      note(e)
    }
  }
  const latencies: number[] = []
  let wrongCode = 0
  let closedTooEarly = 0
  for (let i = 0; i < conns.length; i++) {
    const entry = conns[i]!
    const cred = job.credentials[i]!
    if (entry.closedAt !== null) {
      // Revoking earlier devices must not have closed this one.
      closedTooEarly++
      continue
    }
    const t0 = performance.now()
    entry.revokedAt = t0
    try {
      const [res, code] = await Promise.all([
        httpCall(agent, job.httpUrl, 'DELETE', '/session', { Token: cred.token, Username: cred.username }),
        Promise.race([entry.conn.closeSeen.then((seen) => seen.code), new Promise<null>((r) => setTimeout(r, CLOSE_TIMEOUT_MS, null).unref())]),
      ])
      if (res.status !== 200) throw new Error(`DELETE /session answered ${res.status} ${res.body.slice(0, 200)}`)
      if (code === null) throw new Error(`no close within ${CLOSE_TIMEOUT_MS} ms of the revoke`)
      if (code !== SESSION_REVOKED) wrongCode++
      else latencies.push(entry.closedAt! - t0)
    } catch (e) {
      note(e)
    }
  }
  await Promise.all(conns.map((c) => c.conn.close()))
  agent.destroy()
  return { latency: summarizeLatencies(latencies), wrongCode, closedTooEarly, failed, firstError }
}
