import { join } from 'node:path'
import type { HandshakeResult } from '../client/handshake.js'
import { buildFixture } from '../fixtures.js'
import type { RunningServer } from '../processes.js'
import { spreadOrNull, type Row } from '../report.js'
import { asClientCredentials, reason, startOn, targetOf, type RunContext } from './context.js'

const label = (n: number) => (n >= 1_000_000 ? `${n / 1_000_000}M` : `${n / 1000}k`)

interface Subject {
  size: number
  server?: RunningServer
  credentials: { token: string; username: string }[]
  p50: number[]
  p99: number[]
  error?: string
}

/**
 * Scenario 5: handshake latency (one at a time, so no queueing) on databases holding 10k, 100k
 * and 1M session rows; the tokens used are spread evenly through the table. One chatgate per
 * size runs side by side and the repetitions rotate between them, so that warm-up and background
 * load do not favour one size.
 */
export async function rowsScenario(ctx: RunContext): Promise<Row[]> {
  const p = ctx.profile.rows
  const subjects: Subject[] = []
  try {
    for (const size of p.sizes) {
      const started = performance.now()
      // Last used over a minute ago: the warm-up pays every token's sliding-expiry write, whichever
      // fixture was built first (the 1M one takes long enough for the others to cross the minute).
      const fixture = buildFixture(join(ctx.workDir, `rows-${size}.db`), {
        tokenUsers: p.tokens,
        fillerSessions: size - p.tokens,
        loginAccounts: 0,
        bcryptCost: 4,
        lastSeenAgoMs: 61_000,
      })
      ctx.log(`  ${label(size)} session rows written in ${((performance.now() - started) / 1000).toFixed(1)} s`)
      const subject: Subject = { size, credentials: asClientCredentials(fixture.credentials), p50: [], p99: [] }
      subjects.push(subject)
      try {
        subject.server = await startOn(ctx, 'chatgate', fixture.dbPath, true)
      } catch (e) {
        subject.error = reason(e)
      }
    }
    const run = (s: Subject, maxCount: number) =>
      ctx.client.run<HandshakeResult>({
        type: 'handshake',
        target: targetOf(ctx, s.server!),
        credentials: s.credentials,
        concurrency: 1,
        durationMs: 60_000,
        maxCount,
      })
    for (const s of subjects) {
      if (s.error) continue
      // Every token once: first-use work (sliding expiry, JIT, page cache) stays out of the figures.
      const warm = await run(s, s.credentials.length)
      if (warm.failed > 0) s.error = `warm-up failed: ${warm.firstError}`
    }
    for (let rep = 0; rep < ctx.profile.reps; rep++) {
      for (let i = 0; i < subjects.length; i++) {
        const s = subjects[(i + rep) % subjects.length]!
        if (s.error) continue
        const r = await run(s, p.samples)
        if (r.failed > 0) {
          s.error = `${r.failed} failed: ${r.firstError}`
          continue
        }
        s.p50.push(r.latency.p50)
        s.p99.push(r.latency.p99)
        ctx.log(`  rep ${rep + 1} ${label(s.size).padStart(4)} rows: p50 ${r.latency.p50.toFixed(3)} ms, p99 ${r.latency.p99.toFixed(3)} ms`)
      }
    }
  } finally {
    await Promise.all(subjects.map((s) => s.server?.stop()))
  }
  for (const s of subjects) if (s.error) ctx.log(`  chatgate at ${label(s.size)} rows: ${s.error}`)
  const base = subjects[0]!
  const rows: Row[] = []
  for (const s of subjects) {
    for (const which of ['p50', 'p99'] as const) {
      rows.push({
        scenario: '5 session rows',
        metric: `handshake ${which} ms at ${label(s.size)} rows (1 in flight)`,
        value: s.error ? null : spreadOrNull(s[which]),
        reference: s === base ? undefined : { label: `${label(base.size)} rows`, value: base.error ? null : spreadOrNull(base[which]) },
        target: s === base || which === 'p99' ? undefined : { on: 'ratio', op: '<=', limit: 1.1 },
        digits: 3,
        note: s.error ?? base.error,
      })
    }
  }
  return rows
}
