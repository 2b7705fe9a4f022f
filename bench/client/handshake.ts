import { summarizeLatencies, type LatencySummary } from '../stats.js'
import { dial, type ClientCredential, type TargetSpec } from './dial.js'

export interface HandshakeJob {
  type: 'handshake'
  target: TargetSpec
  /** Used round-robin; more credentials than `concurrency`, so no pair is live twice at once. */
  credentials: ClientCredential[]
  concurrency: number
  /** Stop starting new cycles after this long... */
  durationMs: number
  /** ...or after this many cycles, whichever comes first. */
  maxCount: number
  /** Return every latency too (to pool several short runs into one percentile). */
  keepSamples?: boolean
}

export interface HandshakeResult {
  completed: number
  failed: number
  firstError: string | null
  /** From the first dial to the last cycle's close. */
  elapsedMs: number
  /** Dial → welcome, per completed cycle. */
  latency: LatencySummary
  /** CPU time this load generator spent (µs): near elapsedMs × 1000 means it was the bottleneck. */
  clientCpuMicros: number
  /** Every dial → welcome time (ms), with keepSamples. */
  samples?: number[]
}

/** A run gives up when failures dominate, so a broken server cannot spin the client. */
const MAX_FAILURES = 50

/**
 * Closed loop of `concurrency` workers, each repeating connect → welcome → close (waiting until
 * the close completes) with the next credential, until the time or count bound.
 */
export async function runHandshakes(job: HandshakeJob): Promise<HandshakeResult> {
  const latencies: number[] = []
  let started = 0
  let failed = 0
  let firstError: string | null = null
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  const deadline = t0 + job.durationMs
  const more = () => started < job.maxCount && performance.now() < deadline && failed < MAX_FAILURES

  async function worker(): Promise<void> {
    while (more()) {
      const cred = job.credentials[started++ % job.credentials.length]!
      try {
        const conn = await dial(job.target, cred)
        latencies.push(conn.latencyMs)
        await conn.close()
      } catch (e) {
        failed++
        firstError ??= e instanceof Error ? e.message : String(e)
      }
    }
  }
  await Promise.all(Array.from({ length: job.concurrency }, worker))
  const elapsedMs = performance.now() - t0
  const cpu = process.cpuUsage(cpu0)
  return {
    completed: latencies.length,
    failed,
    firstError,
    elapsedMs,
    latency: summarizeLatencies(latencies),
    clientCpuMicros: cpu.user + cpu.system,
    ...(job.keepSamples ? { samples: latencies } : {}),
  }
}
