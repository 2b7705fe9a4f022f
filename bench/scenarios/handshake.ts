import type { HandshakeJob, HandshakeResult } from '../client/handshake.js'
import { callInterrupts } from '../machine.js'
import { serverLabel, type RunningServer, type ServerKind } from '../processes.js'
import { spreadOrNull, type Row } from '../report.js'
import { asClientCredentials, reason, startOn, targetOf, type RunContext } from './context.js'

const kinds: ServerKind[] = ['chatgate', 'ws', 'samework', 'socketio']

/** Above this share of its core, the load generator (not the server) set the pace. */
export const CLIENT_BOUND_BUSY = 0.9

/** One repetition against one server. */
interface Sample {
  rate: number
  p50: number
  p99: number
  /** Handshakes per second of server CPU time: the server's capacity if it were the bottleneck. */
  perCpuSecond: number
  /** Share of one core the server used during the run (near 100%: the server was the bottleneck). */
  busy: number
  /** Share of its core the load generator used. */
  clientBusy: number
}

/**
 * Scenario 1: connect with a pre-issued token → welcome → close, in a closed loop, against all
 * four servers (chatgate, bare ws, the same-work ws reference, Socket.IO with the same lookup). The servers run side by side (idle ones cost nothing) and the repetitions are
 * interleaved in a rotating order, so a change in background load hits all three alike.
 */
export async function handshakeScenario(ctx: RunContext): Promise<Row[]> {
  const p = ctx.profile.handshake
  const credentials = asClientCredentials(ctx.fixture.credentials.slice(0, p.tokenPool))
  const servers = new Map<ServerKind, RunningServer>()
  const errors = new Map<ServerKind, string>()
  const samples = new Map<ServerKind, Sample[]>(kinds.map((k) => [k, []]))
  const job = (server: RunningServer, over: Partial<HandshakeJob>): HandshakeJob => ({
    type: 'handshake',
    target: targetOf(ctx, server),
    credentials,
    concurrency: p.concurrency,
    durationMs: p.durationMs,
    maxCount: p.maxCount,
    ...over,
  })
  try {
    for (const kind of kinds) {
      try {
        const server = await startOn(ctx, kind)
        servers.set(kind, server)
        // The real client library first: the server must work with it, not only with ours.
        const check = await ctx.client.run<HandshakeResult>(
          job(server, { target: targetOf(ctx, server, 'library'), concurrency: 4, maxCount: p.libraryCheck, durationMs: 30_000 }),
        )
        if (check.failed > 0 || check.completed === 0) throw new Error(`library client check failed: ${check.firstError}`)
        const warm = await ctx.client.run<HandshakeResult>(job(server, { durationMs: p.warmupMs }))
        if (warm.failed > 0) throw new Error(`warm-up failed: ${warm.firstError}`)
      } catch (e) {
        errors.set(kind, reason(e))
        ctx.log(`  ${serverLabel[kind]}: ${reason(e)}`)
      }
    }
    for (let rep = 0; rep < ctx.profile.handshake.reps; rep++) {
      const order = kinds.map((_, i) => kinds[(i + rep) % kinds.length]!)
      for (const kind of order) {
        const server = servers.get(kind)
        if (!server || errors.has(kind)) continue
        const clientCpu = ctx.placement.clientCpu
        const ipi0 = clientCpu === null ? null : callInterrupts(clientCpu)
        const cpu0 = await server.cpuTime()
        const r = await ctx.client.run<HandshakeResult>(job(server, {}))
        const cpu1 = await server.cpuTime()
        const ipi1 = clientCpu === null ? null : callInterrupts(clientCpu)
        const wakeups = ipi0 === null || ipi1 === null ? '' : `, ${((ipi1 - ipi0) / Math.max(1, r.completed)).toFixed(2)} wake-up IPIs/handshake`
        const cpuUs = cpu1.user + cpu1.system - cpu0.user - cpu0.system
        const sysShare = (cpu1.system - cpu0.system) / cpuUs
        if (r.failed > 0) {
          errors.set(kind, `rep ${rep + 1}: ${r.failed} failed: ${r.firstError}`)
          continue
        }
        const s: Sample = {
          rate: (r.completed * 1000) / r.elapsedMs,
          p50: r.latency.p50,
          p99: r.latency.p99,
          perCpuSecond: (r.completed * 1e6) / cpuUs,
          busy: cpuUs / 1000 / r.elapsedMs,
          clientBusy: r.clientCpuMicros / 1000 / r.elapsedMs,
        }
        samples.get(kind)!.push(s)
        const clientBusy = s.clientBusy
        ctx.log(
          `  rep ${rep + 1} ${serverLabel[kind].padEnd(11)} ${s.rate.toFixed(0).padStart(6)}/s  p50 ${s.p50.toFixed(2)} ms  p99 ${s.p99.toFixed(2)} ms  ` +
            `server ${(s.busy * 100).toFixed(0)}% busy, ${(1e6 / s.perCpuSecond).toFixed(0)} µs/handshake (${(sysShare * 100).toFixed(0)}% in the kernel); client ${(clientBusy * 100).toFixed(0)}% busy${wakeups}`,
        )
      }
    }
  } finally {
    await Promise.all([...servers.values()].map((s) => s.stop()))
  }

  // Bad input: a server that logged an error gives no figure.
  for (const [kind, server] of servers) {
    const logged = server.loggedErrors()
    if (logged.length > 0 && !errors.has(kind)) errors.set(kind, `${serverLabel[kind]} logged an error: ${logged[0]!.slice(0, 120)}`)
  }
  const fig = (kind: ServerKind, pick: (s: Sample) => number) => (errors.has(kind) ? null : spreadOrNull(samples.get(kind)!.map(pick)))
  const note = (kind: ServerKind) => errors.get(kind)
  // A throughput figure where the load generator was the bottleneck measures the load generator.
  const clientBound = (kind: ServerKind) => samples.get(kind)!.some((s) => s.clientBusy >= CLIENT_BOUND_BUSY)
  const rateOf = (kind: ServerKind) => (clientBound(kind) ? null : fig(kind, (s) => s.rate))
  const clientNote = (kind: ServerKind) =>
    clientBound(kind)
      ? `no handshakes/s for ${serverLabel[kind]}: the load generator was ≥ ${CLIENT_BOUND_BUSY * 100}% busy (it, not the server, set the pace); the CPU rows hold`
      : undefined
  const busy = (kind: ServerKind) => fig(kind, (s) => s.busy)?.median ?? 1
  const bound = kinds.some((k) => !errors.has(k) && busy(k) < 0.85)
    ? 'a server below 85% busy: the load generator or other load limited it; trust the CPU row'
    : undefined
  const targets: Record<Exclude<ServerKind, 'chatgate'>, number | undefined> = { ws: undefined, samework: 0.85, socketio: 1.5 }
  const rows: Row[] = []
  for (const ref of ['samework', 'socketio', 'ws'] as const) {
    const target = targets[ref]
    rows.push({
      scenario: '1 handshake',
      metric: 'handshakes per server CPU-second',
      value: fig('chatgate', (s) => s.perCpuSecond),
      reference: { label: serverLabel[ref], value: fig(ref, (s) => s.perCpuSecond) },
      target: target === undefined ? undefined : { on: 'ratio', op: '>=', limit: target },
      note: note('chatgate') ?? note(ref),
    })
  }
  for (const ref of ['samework', 'socketio', 'ws'] as const) {
    rows.push({
      scenario: '1 handshake',
      metric: 'µs of server CPU per handshake',
      value: fig('chatgate', (s) => 1e6 / s.perCpuSecond),
      reference: { label: serverLabel[ref], value: fig(ref, (s) => 1e6 / s.perCpuSecond) },
      note: note('chatgate') ?? note(ref),
    })
  }
  for (const ref of ['samework', 'socketio', 'ws'] as const) {
    rows.push({
      scenario: '1 handshake',
      metric: 'handshakes/s',
      value: rateOf('chatgate'),
      reference: { label: serverLabel[ref], value: rateOf(ref) },
      note: note('chatgate') ?? note(ref) ?? clientNote('chatgate') ?? clientNote(ref) ?? bound,
    })
  }
  for (const [metric, pick] of [
    ['latency p50 ms', (s: Sample) => s.p50],
    ['latency p99 ms', (s: Sample) => s.p99],
  ] as const) {
    for (const ref of ['samework', 'socketio'] as const) {
      rows.push({
        scenario: '1 handshake',
        metric: `${metric} (at ${ctx.profile.handshake.concurrency} in flight)`,
        value: fig('chatgate', pick),
        reference: { label: serverLabel[ref], value: fig(ref, pick) },
        digits: 2,
        note: note('chatgate') ?? note(ref),
      })
    }
  }
  return rows
}
