import { join } from 'node:path'
import type { HandshakeResult } from '../client/handshake.js'
import { buildFixture } from '../fixtures.js'
import { spreadOrNull, type Row } from '../report.js'
import type { Spread } from '../stats.js'
import { asClientCredentials, reason, startOn, targetOf, type RunContext } from './context.js'

const label = (n: number) => (n >= 1_000_000 ? `${n / 1_000_000}M` : `${n / 1000}k`)

/**
 * Scenario 5: handshake latency (one at a time, so no queueing) on databases holding 10k, 100k
 * and 1M session rows. The tokens used are spread evenly through the table.
 */
export async function rowsScenario(ctx: RunContext): Promise<Row[]> {
  const p = ctx.profile.rows
  const results = new Map<number, { p50: Spread | null; p99: Spread | null; error?: string }>()
  for (const size of p.sizes) {
    const started = performance.now()
    const fixture = buildFixture(join(ctx.workDir, `rows-${size}.db`), { tokenUsers: p.tokens, fillerSessions: size - p.tokens, loginAccounts: 0, bcryptCost: 4 })
    ctx.log(`  ${label(size)} session rows written in ${((performance.now() - started) / 1000).toFixed(1)} s`)
    const credentials = asClientCredentials(fixture.credentials)
    const server = await startOn(ctx, 'chatgate', fixture.dbPath)
    const p50: number[] = []
    const p99: number[] = []
    try {
      const run = (maxCount: number) =>
        ctx.client.run<HandshakeResult>({ type: 'handshake', target: targetOf(ctx, server), credentials, concurrency: 1, durationMs: 60_000, maxCount })
      const warm = await run(credentials.length)
      if (warm.failed > 0) throw new Error(`warm-up failed: ${warm.firstError}`)
      for (let rep = 0; rep < ctx.profile.reps; rep++) {
        const r = await run(p.samples)
        if (r.failed > 0) throw new Error(`${r.failed} failed: ${r.firstError}`)
        p50.push(r.latency.p50)
        p99.push(r.latency.p99)
        ctx.log(`  rep ${rep + 1} ${label(size)} rows: p50 ${r.latency.p50.toFixed(3)} ms, p99 ${r.latency.p99.toFixed(3)} ms`)
      }
      results.set(size, { p50: spreadOrNull(p50), p99: spreadOrNull(p99) })
    } catch (e) {
      results.set(size, { p50: null, p99: null, error: reason(e) })
      ctx.log(`  chatgate: ${reason(e)}`)
    } finally {
      await server.stop()
    }
  }
  const base = p.sizes[0]!
  const baseline = results.get(base)!
  const rows: Row[] = []
  for (const size of p.sizes) {
    const r = results.get(size)!
    for (const which of ['p50', 'p99'] as const) {
      rows.push({
        scenario: '5 session rows',
        metric: `handshake ${which} ms at ${label(size)} rows (1 in flight)`,
        value: r[which],
        reference: size === base ? undefined : { label: `${label(base)} rows`, value: baseline[which] },
        target: size === base || which === 'p99' ? undefined : { on: 'ratio', op: '<=', limit: 1.1 },
        digits: 3,
        note: r.error ?? baseline.error,
      })
    }
  }
  return rows
}
