import { copyFileSync } from 'node:fs'
import { join } from 'node:path'
import type { HandshakeResult } from '../client/handshake.js'
import { buildFixture } from '../fixtures.js'
import type { RunningServer } from '../processes.js'
import { spreadOrNull, type Row } from '../report.js'
import { percentile } from '../stats.js'
import { asClientCredentials, reason, startOn, targetOf, type RunContext } from './context.js'

const label = (n: number) => (n >= 1_000_000 ? `${n / 1_000_000}M` : `${n / 1000}k`)

/** Short runs per repetition: the subjects alternate this often, so a burst of background load hits them alike. */
const SLICES = 10

/** SQLite's own defaults (2 MiB page cache, no memory map): the "before" of decision 0340. */
const SQLITE_DEFAULTS = { SQLITE_CACHE_MB: '2', SQLITE_MMAP_MB: '0' }

interface Subject {
  name: string
  size: number
  server?: RunningServer
  credentials: { token: string; username: string }[]
  p50: number[]
  p99: number[]
  /** µs of server CPU per handshake, per repetition. */
  cpu: number[]
  error?: string
}

/**
 * Scenario 5: handshake latency (one at a time, so no queueing) on databases holding 10k, (100k)
 * and 1M session rows, plus the largest once more with SQLite's default cache and no memory map;
 * the tokens used are spread evenly through the table. One chatgate per subject runs side by side;
 * each repetition is cut into SLICES short runs that rotate between the subjects, and its p50/p99
 * come from the pooled latencies. The server's CPU per handshake is reported too: it does not
 * move with the machine's background load the way latency does.
 */
export async function rowsScenario(ctx: RunContext): Promise<Row[]> {
  const p = ctx.profile.rows
  const subjects: Subject[] = []
  const largest = Math.max(...p.sizes)
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
      const credentials = asClientCredentials(fixture.credentials)
      const runs: { name: string; path: string; env?: Record<string, string> }[] = [{ name: `${label(size)} rows`, path: fixture.dbPath }]
      if (size === largest) {
        const copy = join(ctx.workDir, `rows-${size}-defaults.db`)
        copyFileSync(fixture.dbPath, copy)
        runs.push({ name: `${label(size)} rows, SQLite defaults`, path: copy, env: SQLITE_DEFAULTS })
      }
      for (const r of runs) {
        const subject: Subject = { name: r.name, size, credentials, p50: [], p99: [], cpu: [] }
        subjects.push(subject)
        try {
          subject.server = await startOn(ctx, 'chatgate', r.path, true, r.env ? { env: r.env } : {})
        } catch (e) {
          subject.error = reason(e)
        }
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
        keepSamples: true,
      })
    for (const s of subjects) {
      if (s.error) continue
      // Every token once: first-use work (sliding expiry, JIT, page cache) stays out of the figures.
      const warm = await run(s, s.credentials.length)
      if (warm.failed > 0) s.error = `warm-up failed: ${warm.firstError}`
    }
    const perSlice = Math.max(1, Math.round(p.samples / SLICES))
    for (let rep = 0; rep < ctx.profile.reps; rep++) {
      const pooled = new Map<Subject, { ms: number[]; cpuUs: number; count: number }>(subjects.map((s) => [s, { ms: [], cpuUs: 0, count: 0 }]))
      for (let slice = 0; slice < SLICES; slice++) {
        for (let i = 0; i < subjects.length; i++) {
          const s = subjects[(i + slice + rep) % subjects.length]!
          if (s.error) continue
          const c0 = await s.server!.cpuTime()
          const r = await run(s, perSlice)
          const c1 = await s.server!.cpuTime()
          if (r.failed > 0) {
            s.error = `${r.failed} failed: ${r.firstError}`
            continue
          }
          const acc = pooled.get(s)!
          acc.ms.push(...(r.samples ?? []))
          acc.cpuUs += c1.user + c1.system - c0.user - c0.system
          acc.count += r.completed
        }
      }
      for (const s of subjects) {
        if (s.error) continue
        const acc = pooled.get(s)!
        s.p50.push(percentile(acc.ms, 50))
        s.p99.push(percentile(acc.ms, 99))
        s.cpu.push(acc.cpuUs / acc.count)
        ctx.log(
          `  rep ${rep + 1} ${s.name.padEnd(24)}: p50 ${s.p50.at(-1)!.toFixed(3)} ms, p99 ${s.p99.at(-1)!.toFixed(3)} ms, ` +
            `${s.cpu.at(-1)!.toFixed(0)} µs server CPU/handshake (${acc.count})`,
        )
      }
    }
  } finally {
    await Promise.all(subjects.map((s) => s.server?.stop()))
  }
  for (const s of subjects) {
    const logged = s.server?.loggedErrors() ?? []
    if (!s.error && logged.length > 0) s.error = `chatgate logged an error: ${logged[0]!.slice(0, 120)}`
    if (s.error) ctx.log(`  chatgate at ${s.name}: ${s.error}`)
  }
  const base = subjects[0]!
  const rows: Row[] = []
  const metrics = [
    ['p50', 'handshake p50 ms', 3],
    ['p99', 'handshake p99 ms', 3],
    ['cpu', 'µs server CPU per handshake', 0],
  ] as const
  for (const s of subjects) {
    const defaults = s.name.endsWith('SQLite defaults')
    for (const [which, metric, digits] of metrics) {
      // SQLite's defaults against the new settings on the same file (ratio > 1: the settings help); every other size against the smallest.
      const ref = defaults ? subjects.find((x) => x.size === s.size && x !== s)! : base
      rows.push({
        scenario: '5 session rows',
        metric: `${metric} at ${s.name} (1 in flight)`,
        value: s.error ? null : spreadOrNull(s[which]),
        reference: s === base ? undefined : { label: ref.name, value: ref.error ? null : spreadOrNull(ref[which]) },
        target: s === base || defaults || which === 'cpu' ? undefined : { on: 'ratio', op: '<=', limit: 1.05 },
        digits,
        note: s.error ?? ref.error,
      })
    }
  }
  return rows
}
