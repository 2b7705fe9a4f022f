import { join } from 'node:path'
import type { HandshakeResult } from '../client/handshake.js'
import type { HoldResult } from '../client/hold.js'
import { serverLabel, type MemorySample, type RunningServer, type ServerKind } from '../processes.js'
import { spreadOrNull, type Row } from '../report.js'
import { asClientCredentials, reason, startOn, targetOf, type RunContext } from './context.js'

const kinds: ServerKind[] = ['chatgate', 'ws', 'socketio']

interface Sample {
  rssPerConn: number
  heapPerConn: number
}

/** Extra descriptors the runner and its client need besides the held sockets. */
export const FD_HEADROOM = 1_000

/**
 * Scenario 2: memory per idle connection. Each repetition starts a fresh server, warms it up,
 * takes a baseline after a full GC, opens N connections and keeps them idle, takes the figure
 * after a full GC again, and divides the difference by N (RSS and V8 heap).
 */
export async function memoryScenario(ctx: RunContext): Promise<Row[]> {
  const p = ctx.profile.memory
  const credentials = asClientCredentials(ctx.fixture.credentials.slice(0, p.connections))
  if (credentials.length < p.connections) throw new Error(`fixture holds ${credentials.length} tokens, need ${p.connections}`)
  const samples = new Map<ServerKind, Sample[]>(kinds.map((k) => [k, []]))
  const errors = new Map<ServerKind, string>()
  for (let rep = 0; rep < ctx.profile.reps; rep++) {
    for (const kind of kinds) {
      if (errors.has(kind)) continue
      let server: RunningServer | undefined
      try {
        server = await startOn(ctx, kind)
        const warm = await ctx.client.run<HandshakeResult>({
          type: 'handshake',
          target: targetOf(ctx, server),
          credentials,
          concurrency: 8,
          durationMs: 30_000,
          maxCount: p.warmupCycles,
        })
        if (warm.failed > 0) throw new Error(`warm-up failed: ${warm.firstError}`)
        const snapshots = ctx.heapDir && rep === 0 ? join(ctx.heapDir, `${kind}-${p.connections}`) : null
        if (snapshots) await server.heapSnapshot(`${snapshots}-before.heapsnapshot`)
        const before: MemorySample = await server.memory()
        const opened = await ctx.client.run<HoldResult>({ type: 'hold-open', target: targetOf(ctx, server), credentials, concurrency: p.rampConcurrency })
        if (opened.held !== p.connections) throw new Error(`held ${opened.held} of ${p.connections}: ${opened.firstError}`)
        const after = await server.memory()
        if (snapshots) {
          await server.heapSnapshot(`${snapshots}-after.heapsnapshot`)
          ctx.log(`  heap snapshots: npx tsx bench/heap-top.ts ${snapshots}-before.heapsnapshot ${snapshots}-after.heapsnapshot ${p.connections}`)
        }
        const dropped = await ctx.client.run<number>({ type: 'hold-dropped' })
        if (dropped > 0) throw new Error(`${dropped} idle connections were closed by the server`)
        const s = { rssPerConn: (after.rss - before.rss) / p.connections, heapPerConn: (after.heapUsed - before.heapUsed) / p.connections }
        samples.get(kind)!.push(s)
        ctx.log(
          `  rep ${rep + 1} ${serverLabel[kind].padEnd(11)} ${p.connections} held in ${(opened.elapsedMs / 1000).toFixed(1)} s: ` +
            `RSS +${(s.rssPerConn / 1024).toFixed(2)} KiB/conn, heap +${(s.heapPerConn / 1024).toFixed(2)} KiB/conn`,
        )
      } catch (e) {
        errors.set(kind, reason(e))
        ctx.log(`  ${serverLabel[kind]}: ${reason(e)}`)
      } finally {
        await ctx.client.run({ type: 'hold-close' }).catch(() => undefined)
        await server?.stop()
      }
    }
  }
  const fig = (kind: ServerKind, pick: (s: Sample) => number) => (errors.has(kind) ? null : spreadOrNull(samples.get(kind)!.map((s) => pick(s) / 1024)))
  const rows: Row[] = []
  for (const [metric, pick] of [
    [`RSS KiB per idle connection (${p.connections / 1000}k held)`, (s: Sample) => s.rssPerConn],
    [`heap KiB per idle connection (${p.connections / 1000}k held)`, (s: Sample) => s.heapPerConn],
  ] as const) {
    for (const ref of ['ws', 'socketio'] as const) {
      rows.push({
        scenario: '2 memory',
        metric,
        value: fig('chatgate', pick),
        reference: { label: serverLabel[ref], value: fig(ref, pick) },
        target: ref === 'ws' ? { on: 'ratio', op: '<=', limit: 1.25 } : undefined,
        digits: 2,
        note: errors.get('chatgate') ?? errors.get(ref),
      })
    }
  }
  return rows
}
