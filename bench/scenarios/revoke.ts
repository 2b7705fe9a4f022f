import type { RevokeResult } from '../client/revoke.js'
import { spreadOrNull, type Row } from '../report.js'
import { asClientCredentials, reason, startOn, type RunContext } from './context.js'

/**
 * Scenario 4: revoke → close latency. Each repetition holds one socket per fresh session, then
 * logs each device out in turn (DELETE /session with its own Token + Username) and times until
 * that socket sees its close frame; the code must be 4501 and no other socket may close.
 */
export async function revokeScenario(ctx: RunContext): Promise<Row[]> {
  const p = ctx.profile.revoke
  const all = asClientCredentials(ctx.fixture.credentials)
  const needed = p.warmup + ctx.profile.reps * p.samples
  if (all.length < needed) throw new Error(`fixture holds ${all.length} tokens, need ${needed}`)
  const p50: number[] = []
  const p99: number[] = []
  let error: string | undefined
  const server = await startOn(ctx, 'chatgate')
  const job = (from: number, count: number) =>
    ctx.client.run<RevokeResult>({
      type: 'revoke',
      wsUrl: server.dialUrl,
      httpUrl: server.httpUrl,
      client: ctx.clientKind,
      credentials: all.slice(from, from + count),
    })
  try {
    const check = (r: RevokeResult) => {
      if (r.failed > 0) throw new Error(`${r.failed} failed: ${r.firstError}`)
      if (r.wrongCode > 0) throw new Error(`${r.wrongCode} sockets closed with a code other than 4501`)
      if (r.closedTooEarly > 0) throw new Error(`${r.closedTooEarly} sockets closed before their own session was revoked`)
    }
    check(await job(0, p.warmup))
    for (let rep = 0; rep < ctx.profile.reps; rep++) {
      const r = await job(p.warmup + rep * p.samples, p.samples)
      check(r)
      p50.push(r.latency.p50)
      p99.push(r.latency.p99)
      ctx.log(
        `  rep ${rep + 1} revoke → 4501: p50 ${r.latency.p50.toFixed(2)} ms, p99 ${r.latency.p99.toFixed(2)} ms, max ${r.latency.max.toFixed(2)} ms (${r.latency.count})`,
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
    { scenario: '4 revoke → close', metric: 'DELETE /session → 4501 p50 ms', value: ok(p50), digits: 2, note: error },
    {
      scenario: '4 revoke → close',
      metric: 'DELETE /session → 4501 p99 ms',
      value: ok(p99),
      digits: 2,
      target: { on: 'value', op: '<', limit: 10 },
      note: error,
    },
  ]
}
