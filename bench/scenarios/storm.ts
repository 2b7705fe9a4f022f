import { copyFileSync } from 'node:fs'
import { join } from 'node:path'
import type { RetryRule, StormStatus } from '../client/storm.js'
import { splitEvenly, startFleet, stopFleet, type FleetMember } from '../fleet.js'
import { probeHealthz } from '../healthz-probe.js'
import type { RunningServer } from '../processes.js'
import { spreadOrNull, type Row } from '../report.js'
import { percentile } from '../stats.js'
import { asClientCredentials, reason, startOn, targetOf, type RunContext } from './context.js'

interface StormOutcome {
  clients: number
  /** Seconds from the new node's first /healthz 200 until 99% / 100% of the clients were back. */
  to99: number
  to100: number
  /** Clients without a socket when the runner stopped watching. */
  withoutSocket: number
  refusals: Record<string, number>
  healthzP99: number
  healthzFailed: number
  /** Seconds from SIGTERM to the new node's first /healthz 200. */
  downS: number
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0)

/** Counts by key from every fleet member, added up. */
function addCounts(parts: Record<string, number>[]): Record<string, number> {
  const total: Record<string, number> = {}
  for (const part of parts) for (const [k, v] of Object.entries(part)) total[k] = (total[k] ?? 0) + v
  return total
}

/** How many of `seconds` fall in each whole second from 0 (the timeline of a storm). */
function perSecond(seconds: number[]): number[] {
  const counts: number[] = []
  for (const s of seconds) {
    const i = Math.max(0, Math.floor(s))
    while (counts.length <= i) counts.push(0)
    counts[i]!++
  }
  return counts
}

async function statusOf(fleet: FleetMember[]): Promise<StormStatus> {
  const all = await Promise.all(fleet.map((m) => m.client.run<StormStatus>({ type: 'storm-status' })))
  return {
    clients: sum(all.map((s) => s.clients)),
    connected: sum(all.map((s) => s.connected)),
    backAt: all.flatMap((s) => s.backAt),
    lostAfterMark: sum(all.map((s) => s.lostAfterMark)),
    refusals: addCounts(all.map((s) => s.refusals)),
    lostBeforeMark: sum(all.map((s) => s.lostBeforeMark)),
    stopped: sum(all.map((s) => s.stopped)),
  }
}

/**
 * One storm: N reconnecting clients on one chatgate (default heartbeat), all connected; SIGTERM
 * the node, start it again on the same database and port, and watch the clients come back while
 * the runner probes /healthz.
 */
async function storm(ctx: RunContext, fleet: FleetMember[], rule: RetryRule, name: string): Promise<StormOutcome> {
  const p = ctx.profile.storm
  const dbPath = join(ctx.workDir, `storm-${name}.db`)
  copyFileSync(ctx.fixture.dbPath, dbPath)
  const credentials = asClientCredentials(ctx.fixture.credentials.slice(0, p.clients))
  if (credentials.length < p.clients) throw new Error(`fixture holds ${credentials.length} tokens, need ${p.clients}`)
  let server: RunningServer | undefined = await startOn(ctx, 'chatgate', dbPath, true, { defaultHeartbeat: true })
  const port = Number(new URL(server.httpUrl).port)
  try {
    const parts = splitEvenly(credentials, fleet.length)
    const t0 = performance.now()
    await Promise.all(
      fleet.map((m, i) =>
        m.client.run({
          type: 'storm-start',
          target: targetOf(ctx, server!, 'wire'),
          credentials: parts[i]!,
          localAddresses: m.addresses,
          rule,
          rampConcurrency: Math.max(1, Math.ceil(p.rampConcurrency / fleet.length)),
        }),
      ),
    )
    // Clients refused during the ramp retry on their own; wait until every one holds a socket.
    const rampDeadline = performance.now() + p.timeoutMs
    let st = await statusOf(fleet)
    while (st.connected < p.clients && performance.now() < rampDeadline) {
      await new Promise((r) => setTimeout(r, 250))
      st = await statusOf(fleet)
    }
    if (st.connected < p.clients) throw new Error(`only ${st.connected} of ${p.clients} connected before the restart`)
    ctx.log(`  ${name}: ${p.clients} connected in ${((performance.now() - t0) / 1000).toFixed(1)} s; SIGTERM`)
    const mark = Date.now()
    await Promise.all(fleet.map((m) => m.client.run({ type: 'storm-mark', at: mark })))
    const errorsBefore = server.loggedErrors()
    await server.stop()
    server = undefined
    server = await startOn(ctx, 'chatgate', dbPath, true, { defaultHeartbeat: true, port })
    const readyAt = Date.now()
    const probe = probeHealthz(server.httpUrl, p.probeEveryMs)
    const deadline = readyAt + p.timeoutMs
    for (;;) {
      st = await statusOf(fleet)
      if (st.connected === p.clients && st.backAt.length === st.lostAfterMark) break
      if (Date.now() > deadline) break
      await new Promise((r) => setTimeout(r, 100))
    }
    // A moment more: a client that is back must stay back (no replace/close loop).
    await new Promise((r) => setTimeout(r, Math.min(2_000, p.timeoutMs / 10)))
    st = await statusOf(fleet)
    const healthz = await probe.stop()
    const logged = [...errorsBefore, ...server.loggedErrors()]
    if (logged.length > 0) throw new Error(`chatgate logged an error: ${logged[0]!.slice(0, 120)}`)
    if (st.lostBeforeMark > 0) throw new Error(`${st.lostBeforeMark} sockets were lost before the restart`)
    if (st.stopped > 0) throw new Error(`${st.stopped} clients stopped for good (an upgrade refused 401)`)
    const back = st.backAt.map((t) => (t - readyAt) / 1000)
    const withoutSocket = p.clients - st.connected
    const outcome: StormOutcome = {
      clients: p.clients,
      to99: back.length >= Math.ceil(0.99 * p.clients) ? percentile(back, (99 * p.clients) / back.length) : Number.NaN,
      to100: withoutSocket === 0 && back.length === p.clients ? Math.max(...back) : Number.NaN,
      withoutSocket,
      refusals: st.refusals,
      healthzP99: healthz.p99,
      healthzFailed: healthz.failed,
      downS: (readyAt - mark) / 1000,
    }
    ctx.log(
      `  ${name}: node down ${outcome.downS.toFixed(1)} s; back after its first /healthz 200: 99% ${outcome.to99.toFixed(2)} s, 100% ${outcome.to100.toFixed(2)} s; ` +
        `${withoutSocket} without a socket; refusals ${JSON.stringify(outcome.refusals)}; ` +
        `/healthz p99 ${healthz.p99.toFixed(2)} ms (${healthz.count} probes, ${healthz.failed} failed)`,
    )
    ctx.log(`  ${name}: clients back per second after the first /healthz 200: ${perSecond(back).join(' ')}`)
    return outcome
  } finally {
    await Promise.all(fleet.map((m) => m.client.run({ type: 'storm-stop' }).catch(() => undefined)))
    await server?.stop()
  }
}

/**
 * Scenario 6: reconnect storm. N clients following the client SDK's rule (full-jitter exponential
 * backoff, 0.5 s base, 30 s cap), then the same with a fixed 1 s retry; each time the node is
 * SIGTERMed and started again on the same database and port. `reps` storms per rule, the rules
 * alternating which goes first; every figure is the median (min–max) of the storms, and the
 * guarantees (everyone back within the bound, nobody left without a socket) must hold in each.
 * A storm that fails (a lost socket, a logged error, a client refused for good) leaves its rule's
 * figures unreported.
 */
export async function stormScenario(ctx: RunContext): Promise<Row[]> {
  const p = ctx.profile.storm
  const rules: [string, RetryRule][] = [
    ['backoff', { kind: 'jitter', baseMs: 500, capMs: 30_000, resetAfterMs: 60_000 }],
    ['fixed 1 s', { kind: 'fixed', delayMs: 1_000 }],
  ]
  const fleet = await startFleet(p.processes, ctx.placement.clientCpu)
  const outcomes = new Map<string, StormOutcome[] | string>(rules.map(([name]) => [name, []]))
  try {
    for (let rep = 0; rep < p.reps; rep++) {
      for (const [name, rule] of rep % 2 === 0 ? rules : [...rules].reverse()) {
        const done = outcomes.get(name)
        if (typeof done === 'string') continue
        try {
          done!.push(await storm(ctx, fleet, rule, p.reps > 1 ? `${name} #${rep + 1}` : name))
        } catch (e) {
          outcomes.set(name, reason(e))
          ctx.log(`  ${name}: ${reason(e)}`)
        }
      }
    }
  } finally {
    await stopFleet(fleet)
  }
  const rows: Row[] = []
  const k = p.clients.toLocaleString('en-US')
  const [main, naive] = rules.map(([name]) => outcomes.get(name))
  const get = (o: StormOutcome[] | string | undefined, pick: (o: StormOutcome) => number) =>
    typeof o === 'object' && o.length > 0 ? spreadOrNull(o.map(pick)) : null
  const noteOf = (o: StormOutcome[] | string | undefined) => {
    if (typeof o === 'string') return o
    const short = o?.find((x) => x.withoutSocket > 0)
    return short
      ? `${short.withoutSocket} of ${short.clients} clients still had no socket ${(p.timeoutMs / 1000).toFixed(0)} s after the new node's first /healthz 200`
      : undefined
  }
  const refusalText = (o: StormOutcome[] | string | undefined) =>
    typeof o === 'object'
      ? Object.entries(addCounts(o.map((x) => x.refusals)))
          .map(([c, n]) => `${c}: ${n}`)
          .join(', ') || 'none'
      : undefined
  const fixedLabel = 'fixed 1 s retry'
  const storms = p.reps > 1 ? `, all ${p.reps} storms of each rule` : ''
  rows.push(
    {
      scenario: '6 storm',
      metric: `s until 99% of ${k} back (from the new node's first /healthz 200)`,
      value: get(main, (o) => o.to99),
      reference: { label: fixedLabel, value: get(naive, (o) => o.to99) },
      digits: 2,
      note: noteOf(main) ?? noteOf(naive),
    },
    {
      scenario: '6 storm',
      metric: `s until 100% of ${k} back`,
      value: get(main, (o) => o.to100),
      reference: { label: fixedLabel, value: get(naive, (o) => o.to100) },
      target: { on: 'value', op: '<=', limit: 30, worst: true },
      digits: 2,
      note: noteOf(main) ?? noteOf(naive),
    },
    {
      scenario: '6 storm',
      metric: 'clients left without a socket',
      value: get(main, (o) => o.withoutSocket),
      reference: { label: fixedLabel, value: get(naive, (o) => o.withoutSocket) },
      target: { on: 'value', op: '<=', limit: 0, worst: true },
      note: noteOf(main) ?? noteOf(naive),
    },
    {
      scenario: '6 storm',
      metric: '/healthz p99 ms during the storm',
      value: get(main, (o) => o.healthzP99),
      reference: { label: fixedLabel, value: get(naive, (o) => o.healthzP99) },
      target: { on: 'value', op: '<', limit: 50 },
      digits: 2,
      note: noteOf(main) ?? noteOf(naive),
    },
    {
      scenario: '6 storm',
      metric: 'failed attempts (all causes)',
      value: get(main, (o) => sum(Object.values(o.refusals))),
      reference: { label: fixedLabel, value: get(naive, (o) => sum(Object.values(o.refusals))) },
      note: noteOf(main) ?? (typeof main === 'object' ? `by cause${storms}, backoff: ${refusalText(main)}; fixed 1 s: ${refusalText(naive)}` : undefined),
    },
    {
      scenario: '6 storm',
      metric: 's from SIGTERM to the new node answering /healthz',
      value: get(main, (o) => o.downS),
      reference: { label: fixedLabel, value: get(naive, (o) => o.downS) },
      digits: 1,
      note: noteOf(main) ?? noteOf(naive),
    },
  )
  return rows
}
