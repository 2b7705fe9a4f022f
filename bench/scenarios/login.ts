import { availableParallelism } from 'node:os'
import type { LoginJob, LoginResult } from '../client/login.js'
import { FIXTURE_PASSWORD } from '../fixtures.js'
import { spreadOrNull, type Row } from '../report.js'
import { reason, startOn, type RunContext } from './context.js'

/**
 * Scenario 3: 50 clients log in back to back while one more probes GET /healthz. Reports logins/s
 * against what the hardware allows (the server's cores ÷ one bcrypt compare, timed in the same
 * run) and /healthz p99 during the burst (the event loop must stay free while workers hash).
 */
export async function loginScenario(ctx: RunContext): Promise<Row[]> {
  const p = ctx.profile.login
  const accounts = ctx.fixture.loginAccounts.slice(0, p.accounts)
  // chatgate sizes its bcrypt pool to the cores it may use: one when pinned.
  const serverCores = ctx.placement.serverCpu === null ? availableParallelism() : 1
  const compareMs = await ctx.client.run<number>({ type: 'bcrypt', password: FIXTURE_PASSWORD, hash: ctx.fixture.passwordHash, times: 5 })
  const expected = (serverCores * 1000) / compareMs
  ctx.log(
    `  one bcrypt compare (cost of the fixture hash) takes ${compareMs.toFixed(1)} ms → expect ≈ ${expected.toFixed(1)} logins/s on ${serverCores} core(s)`,
  )

  const rates: number[] = []
  const burstP99: number[] = []
  const idleP99: number[] = []
  let error: string | undefined
  const server = await startOn(ctx, 'chatgate')
  const job = (concurrency: number, durationMs: number): LoginJob => ({
    type: 'login',
    httpUrl: server.httpUrl,
    accounts,
    concurrency,
    durationMs,
    healthzEveryMs: p.healthzEveryMs,
  })
  try {
    const warm = await ctx.client.run<LoginResult>(job(2, 1_000))
    if (warm.logins === 0) throw new Error(`no login succeeded in the warm-up: ${JSON.stringify(warm.refused)}`)
    for (let rep = 0; rep < ctx.profile.reps; rep++) {
      const idle = await ctx.client.run<LoginResult>(job(0, p.idleMs))
      const burst = await ctx.client.run<LoginResult>(job(p.concurrency, p.durationMs))
      const refused = Object.entries(burst.refused)
      if (refused.length > 0) throw new Error(`logins refused during the burst: ${refused.map(([k, v]) => `${v}× ${k}`).join(', ')}`)
      if (burst.healthzFailed > 0) throw new Error(`${burst.healthzFailed} /healthz probes failed during the burst`)
      idleP99.push(idle.healthz.p99)
      burstP99.push(burst.healthz.p99)
      rates.push((burst.logins * 1000) / burst.windowMs)
      ctx.log(
        `  rep ${rep + 1} ${rates.at(-1)!.toFixed(1)} logins/s; /healthz p99 ${burst.healthz.p99.toFixed(2)} ms (max ${burst.healthz.max.toFixed(2)}, ` +
          `${burst.healthz.count} probes) vs idle p99 ${idle.healthz.p99.toFixed(2)} ms`,
      )
    }
  } catch (e) {
    error = reason(e)
    ctx.log(`  chatgate: ${error}`)
  } finally {
    await server.stop()
  }
  const ok = (xs: number[]) => (error ? null : spreadOrNull(xs))
  return [
    {
      scenario: '3 login burst',
      metric: `logins/s (${p.concurrency} concurrent)`,
      value: ok(rates),
      reference: { label: `cores ÷ bcrypt compare (${serverCores} ÷ ${compareMs.toFixed(0)} ms)`, value: spreadOrNull([expected]) },
      target: { on: 'ratio', op: '>=', limit: 0.8 },
      digits: 1,
      note: error,
    },
    {
      scenario: '3 login burst',
      metric: '/healthz p99 ms during the burst',
      value: ok(burstP99),
      reference: { label: '/healthz p99 idle', value: ok(idleP99) },
      target: { on: 'value', op: '<', limit: 20 },
      digits: 2,
      note: error,
    },
  ]
}
