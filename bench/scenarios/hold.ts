import { join } from 'node:path'
import type { HandshakeResult } from '../client/handshake.js'
import type { HoldResult } from '../client/hold.js'
import { splitEvenly, startFleet, stopFleet } from '../fleet.js'
import { probeHealthz, type ProbeResult } from '../healthz-probe.js'
import { serverLabel, type MemorySample, type RunningServer, type ServerKind } from '../processes.js'
import { spreadOrNull, type Row } from '../report.js'
import { fitLine } from '../stats.js'
import { asClientCredentials, reason, startOn, targetOf, type RunContext } from './context.js'

/**
 * Bare ws is the yardstick of the targets; the same-work server (which also reads each session and
 * writes a connection row into the same SQLite store) shows how much of chatgate's memory over
 * bare ws is the contract's own storage rather than the gateway's tracking.
 */
const kinds: ServerKind[] = ['chatgate', 'ws', 'samework']

/**
 * V8 grows and shrinks its young generation with the allocation rate: after the warm-up of
 * handshakes its semi-spaces may be 16 MiB, minutes later 1 MiB, which moved RSS by ±10 KiB per
 * connection at 2k and swamped what the connections themselves hold. Both servers of this scenario
 * run with the young generation fixed at its largest default size, so RSS growth is the
 * connections' (and the old generation's), not the collector's mood.
 */
export const FIXED_YOUNG_GENERATION = ['--min-semi-space-size=16', '--max-semi-space-size=16']

/** Descriptors a server needs besides its held sockets (database, pipes, workers, listen socket). */
export const FD_HEADROOM = 1_000

/**
 * RSS without V8's young generation. Its size is fixed (above), yet V8 uncommits it when a server
 * goes idle, and the pages did not always leave RSS with it; the probe fills it before every
 * reading, so both readings hold it in full. It holds no connection's state, so the
 * per-connection figures leave it out (decision 0355).
 */
const rssOf = (m: MemorySample) => m.rss - m.young
const anonOf = (m: MemorySample) => m.rssAnon - m.young

/** One held size against one server. */
interface Sample {
  size: number
  /** Bytes of RSS less the young generation, after − before, both after a full GC and a settle. */
  rssGrowth: number
  /** The same, as the OS counts it (young generation included): shown in the log only. */
  rawRssGrowth: number
  /** Bytes of private RSS (RssAnon) less the young generation, after − before. */
  anonGrowth: number
  heapGrowth: number
  /** Bytes of RSS less the young generation after the hold: every size starts a fresh server with the same warm-up. */
  rssAfter: number
  /** The largest young generation seen at either reading (added back for the whole-process prediction). */
  young: number
  /** Share of one core the server used while holding. */
  idleCpu: number
  healthz: ProbeResult
}

/** The holds of a run in order: each size once, the largest `largestReps` times (the repetitions last). */
export const holdRuns = (sizes: number[], largestReps: number): number[] => {
  const largest = Math.max(...sizes)
  return [...sizes, ...Array.from({ length: Math.max(0, largestReps - 1) }, () => largest)]
}

/** The sizes to hold: the profile's, with -1 meaning "the most the open-files limit allows". */
export const holdSizes = (sizes: number[], fdLimit: number): number[] => sizes.map((n) => (n < 0 ? fdLimit - FD_HEADROOM : n))

const label = (n: number) => (n < 1000 ? String(n) : `${(n / 1000).toLocaleString('en-US', { maximumFractionDigits: 1 })}k`)

/**
 * Scenario 2: held connections. For each size (2k, 8k and the most the open-files limit allows
 * in --full), chatgate, bare ws and the same-work server in turn: a fresh server with the default heartbeat, a warm-up,
 * a baseline after a full GC, the sockets opened by a fleet of load-generator processes dialing
 * from 127.0.0.2–9 and held: the server's CPU over the first half of the hold (idle: heartbeats
 * and periodic tasks only), /healthz probed by the runner over the second half, and memory after
 * a full GC again (each reading a second after its GC, RSS less V8's young generation). The
 * largest size is held `largestReps` times per server (its figures are the median, min–max). Then
 * the per-connection slope is fitted over every hold and extrapolated to 100k (the young
 * generation added back for the whole process).
 */
export async function holdScenario(ctx: RunContext): Promise<Row[]> {
  const p = ctx.profile.hold
  const sizes = holdSizes(p.sizes, ctx.fdLimit)
  const largest = Math.max(...sizes)
  const credentials = asClientCredentials(ctx.fixture.credentials.slice(0, largest))
  if (credentials.length < largest) throw new Error(`fixture holds ${credentials.length} tokens, need ${largest}`)
  const samples = new Map<ServerKind, Sample[]>(kinds.map((k) => [k, []]))
  const errors = new Map<string, string>()
  const key = (kind: ServerKind, size: number) => `${kind}@${size}`
  const fleet = await startFleet(p.processes, ctx.placement.clientCpu)
  try {
    for (const [i, size] of holdRuns(sizes, p.largestReps).entries()) {
      // Rotate which server goes first, so none always meets the same background load.
      const order = kinds.map((_, j) => kinds[(i + j) % kinds.length]!)
      for (const kind of order) {
        let server: RunningServer | undefined
        try {
          server = await startOn(ctx, kind, ctx.fixture.dbPath, false, { defaultHeartbeat: true, nodeFlags: FIXED_YOUNG_GENERATION })
          const warm = await ctx.client.run<HandshakeResult>({
            type: 'handshake',
            target: targetOf(ctx, server, 'wire'),
            credentials,
            concurrency: 8,
            durationMs: 30_000,
            maxCount: p.warmupCycles,
          })
          if (warm.failed > 0) throw new Error(`warm-up failed: ${warm.firstError}`)
          const snapshots = ctx.heapDir && size === largest ? join(ctx.heapDir, `${kind}-${size}`) : null
          if (snapshots) await server.heapSnapshot(`${snapshots}-before.heapsnapshot`)
          const before: MemorySample = await server.memory()
          const parts = splitEvenly(credentials.slice(0, size), fleet.length)
          const t0 = performance.now()
          const opened = await Promise.all(
            fleet.map((m, j) =>
              m.client.run<HoldResult>({
                type: 'hold-open',
                target: targetOf(ctx, server!, 'wire'),
                credentials: parts[j]!,
                concurrency: Math.max(1, Math.ceil(p.rampConcurrency / fleet.length)),
                localAddresses: m.addresses,
              }),
            ),
          )
          const held = opened.reduce((a, r) => a + r.held, 0)
          const rampS = (performance.now() - t0) / 1000
          if (held !== size) throw new Error(`held ${held} of ${size}: ${opened.find((r) => r.firstError)?.firstError}`)
          // First half untouched (idle CPU: heartbeats and periodic tasks only), second half with
          // /healthz probes (whose own cost would otherwise count as idle CPU).
          const cpu0 = await server.cpuTime()
          const h0 = performance.now()
          await new Promise((r) => setTimeout(r, p.holdMs / 2))
          const cpu1 = await server.cpuTime()
          const idleCpu = (cpu1.user + cpu1.system - cpu0.user - cpu0.system) / 1000 / (performance.now() - h0)
          const probe = probeHealthz(server.httpUrl, p.probeEveryMs)
          await new Promise((r) => setTimeout(r, p.holdMs / 2))
          const healthz = await probe.stop()
          const after = await server.memory()
          if (snapshots) await server.heapSnapshot(`${snapshots}-after.heapsnapshot`)
          const dropped = (await Promise.all(fleet.map((m) => m.client.run<number>({ type: 'hold-dropped' })))).reduce((a, b) => a + b, 0)
          if (dropped > 0) throw new Error(`${dropped} of ${size} held connections were lost during the hold`)
          if (healthz.failed > 0) throw new Error(`${healthz.failed} /healthz probes failed during the hold`)
          const logged = server.loggedErrors()
          if (logged.length > 0) throw new Error(`${serverLabel[kind]} logged an error: ${logged[0]!.slice(0, 120)}`)
          const s: Sample = {
            size,
            rssGrowth: rssOf(after) - rssOf(before),
            rawRssGrowth: after.rss - before.rss,
            anonGrowth: anonOf(after) - anonOf(before),
            heapGrowth: after.heapUsed - before.heapUsed,
            rssAfter: rssOf(after),
            young: Math.max(before.young, after.young),
            idleCpu,
            healthz,
          }
          samples.get(kind)!.push(s)
          ctx.log(
            `  ${serverLabel[kind].padEnd(8)} ${label(size).padStart(5)} held (ramp ${rampS.toFixed(1)} s) for ${(p.holdMs / 1000).toFixed(0)} s: ` +
              `RSS +${(s.rssGrowth / size / 1024).toFixed(2)} KiB/conn (private +${(s.anonGrowth / size / 1024).toFixed(2)}; ` +
              `young generation ${(before.young / 2 ** 20).toFixed(1)} → ${(after.young / 2 ** 20).toFixed(1)} MiB, RSS with it +${(s.rawRssGrowth / size / 1024).toFixed(2)}; ` +
              `V8 heap reserved +${((after.heapTotal - before.heapTotal) / size / 1024).toFixed(2)}, external +${((after.external - before.external) / size / 1024).toFixed(2)}), heap +${(s.heapGrowth / size / 1024).toFixed(2)} KiB/conn, ` +
              `idle CPU ${(idleCpu * 100).toFixed(2)}% of a core, /healthz p99 ${healthz.p99.toFixed(2)} ms (${healthz.count} probes)`,
          )
        } catch (e) {
          errors.set(key(kind, size), reason(e))
          ctx.log(`  ${serverLabel[kind]} at ${label(size)}: ${reason(e)}`)
        } finally {
          await Promise.all(fleet.map((m) => m.client.run({ type: 'hold-close' }).catch(() => undefined)))
          await server?.stop()
        }
      }
    }
  } finally {
    await stopFleet(fleet)
  }

  /** Every repetition of `kind` at `size`; none when one of them failed. */
  const samplesOf = (kind: ServerKind, size: number) => (errors.has(key(kind, size)) ? [] : samples.get(kind)!.filter((s) => s.size === size))
  const fig = (kind: ServerKind, size: number, pick: (s: Sample) => number) => spreadOrNull(samplesOf(kind, size).map(pick))
  const note = (size: number, reference: ServerKind = 'ws') => errors.get(key('chatgate', size)) ?? errors.get(key(reference, size))
  /** A per-connection memory figure (KiB), chatgate against `reference` at `size`. */
  const perConnection = (reference: ServerKind, size: number, metric: string, bytes: (s: Sample) => number, target?: Row['target']): Row => {
    const kib = (s: Sample) => bytes(s) / s.size / 1024
    return {
      scenario: '2 held',
      metric,
      value: fig('chatgate', size, kib),
      reference: { label: serverLabel[reference], value: fig(reference, size, kib) },
      target,
      digits: 2,
      note: note(size, reference),
    }
  }
  const rows: Row[] = []
  for (const size of sizes) {
    const top = size === largest
    const rss = `RSS KiB per held connection at ${label(size)} (V8's young generation left out)`
    const heap = `heap KiB per held connection at ${label(size)}`
    rows.push(
      perConnection('ws', size, rss, (s) => s.rssGrowth, top ? { on: 'ratio', op: '<=', limit: 1.25 } : undefined),
      perConnection(
        'ws',
        size,
        `private RSS (RssAnon, without file pages or the young generation) KiB per held connection at ${label(size)}`,
        (s) => s.anonGrowth,
      ),
      perConnection('ws', size, heap, (s) => s.heapGrowth),
      perConnection('samework', size, rss, (s) => s.rssGrowth),
      perConnection('samework', size, heap, (s) => s.heapGrowth),
      {
        scenario: '2 held',
        metric: `idle CPU % of a core holding ${label(size)} (default heartbeat)`,
        value: fig('chatgate', size, (s) => s.idleCpu * 100),
        reference: { label: serverLabel.ws, value: fig('ws', size, (s) => s.idleCpu * 100) },
        target: top ? { on: 'value', op: '<=', limit: 5 } : undefined,
        digits: 2,
        note: note(size),
      },
      {
        scenario: '2 held',
        metric: `/healthz p99 ms while holding ${label(size)}`,
        value: fig('chatgate', size, (s) => s.healthz.p99),
        reference: { label: serverLabel.ws, value: fig('ws', size, (s) => s.healthz.p99) },
        target: { on: 'value', op: '<', limit: 20 },
        digits: 2,
        note: note(size),
      },
    )
  }
  // The slope of RSS over the held count, and what it predicts for 100k on a host that allows it.
  // Fitted over the RSS each fresh server had while holding n sockets, not over after − before:
  // a server may give warm-up memory back to the system during the hold, which made the growth
  // at 2k negative and tilted the slope (issue 15's first full run).
  const fit = (kind: ServerKind) => {
    const points = sizes.flatMap((n) => samplesOf(kind, n).map((s) => ({ x: n, y: s.rssAfter })))
    return new Set(points.map((pt) => pt.x)).size >= 2 ? fitLine(points) : null
  }
  const fits = new Map(kinds.map((k) => [k, fit(k)]))
  const fitNote = kinds.some((k) => !fits.get(k))
    ? 'fewer than two sizes measured: no slope'
    : `least squares of the RSS (young generation left out) over every hold (${holdRuns(sizes, p.largestReps).map(label).join(', ')}); the prediction adds the young generation back`
  const one = (x: number | null | undefined) => (x === undefined || x === null || !Number.isFinite(x) ? null : spreadOrNull([x]))
  const slopeOf = (kind: ServerKind) => one(fits.get(kind) && fits.get(kind)!.slope / 1024)
  const youngOf = (kind: ServerKind) => Math.max(0, ...samples.get(kind)!.map((s) => s.young))
  const predicted = (kind: ServerKind) => {
    const f = fits.get(kind)
    return f && (f.slope * 100_000 + f.intercept + youngOf(kind)) / 1024 / 1024
  }
  rows.push(
    {
      scenario: '2 held',
      metric: 'fitted RSS slope, KiB per connection',
      value: slopeOf('chatgate'),
      reference: { label: serverLabel.ws, value: slopeOf('ws') },
      target: { on: 'ratio', op: '<=', limit: 1.25 },
      digits: 2,
      note: fitNote,
    },
    {
      scenario: '2 held',
      metric: 'fitted RSS slope, KiB per connection',
      value: slopeOf('chatgate'),
      reference: { label: serverLabel.samework, value: slopeOf('samework') },
      digits: 2,
      note: fitNote,
    },
    {
      scenario: '2 held',
      metric: 'predicted RSS at 100k connections (whole process), MiB',
      value: one(predicted('chatgate')),
      reference: { label: serverLabel.ws, value: one(predicted('ws')) },
      digits: 0,
      note: fitNote,
    },
  )
  return rows
}
