import { setTimeout as sleep } from 'node:timers/promises'
import { summarizeLatencies, type LatencySummary } from '../stats.js'
import { httpCall, keepAliveAgent } from './http.js'

export interface LoginJob {
  type: 'login'
  httpUrl: string
  accounts: { username: string; password: string }[]
  /** Logins in flight at once (0: only probe /healthz, the idle baseline). */
  concurrency: number
  durationMs: number
  /** Pause between two /healthz probes. */
  healthzEveryMs: number
}

export interface LoginResult {
  /** Logins answered 200 within the window. */
  logins: number
  /** Other answers by status (429, 503…) or `error`. */
  refused: Record<string, number>
  windowMs: number
  /** /healthz round trips during the window (one request at a time). */
  healthz: LatencySummary
  healthzFailed: number
}

/**
 * `concurrency` clients log in back to back (POST /session) for `durationMs`, while one more
 * client probes GET /healthz every `healthzEveryMs` and records each round trip. Logins still in
 * flight at the end are awaited (so they do not spill into the next run) but not counted.
 */
export async function runLogins(job: LoginJob): Promise<LoginResult> {
  const loginAgent = keepAliveAgent(Math.max(1, job.concurrency))
  const probeAgent = keepAliveAgent(1)
  const refused: Record<string, number> = {}
  const healthz: number[] = []
  let healthzFailed = 0
  let logins = 0
  let next = 0
  const t0 = performance.now()
  const deadline = t0 + job.durationMs
  const open = () => performance.now() < deadline

  async function loginWorker(): Promise<void> {
    while (open()) {
      const account = job.accounts[next++ % job.accounts.length]!
      try {
        const res = await httpCall(loginAgent, job.httpUrl, 'POST', '/session', {}, { ...account, device_name: 'bench' })
        if (performance.now() > deadline) break
        if (res.status === 200) logins++
        else refused[res.status] = (refused[res.status] ?? 0) + 1
      } catch {
        refused.error = (refused.error ?? 0) + 1
      }
    }
  }
  async function prober(): Promise<void> {
    while (open()) {
      const start = performance.now()
      try {
        const res = await httpCall(probeAgent, job.httpUrl, 'GET', '/healthz')
        if (res.status === 200) healthz.push(performance.now() - start)
        else healthzFailed++
      } catch {
        healthzFailed++
      }
      await sleep(job.healthzEveryMs)
    }
  }
  await Promise.all([prober(), ...Array.from({ length: job.concurrency }, loginWorker)])
  loginAgent.destroy()
  probeAgent.destroy()
  return { logins, refused, windowMs: job.durationMs, healthz: summarizeLatencies(healthz), healthzFailed }
}
