import { setTimeout as sleep } from 'node:timers/promises'
import { httpCall, keepAliveAgent } from './client/http.js'
import { summarizeLatencies, type LatencySummary } from './stats.js'

export interface ProbeResult extends LatencySummary {
  /** Probes answered with anything but 200, or not at all. */
  failed: number
}

/**
 * Probes GET /healthz one request at a time, every `everyMs`, from the runner process, until
 * `stop()`; the round trips are what an orchestrator's health check would see.
 */
export function probeHealthz(httpUrl: string, everyMs: number): { stop(): Promise<ProbeResult> } {
  const agent = keepAliveAgent(1)
  const samples: number[] = []
  let failed = 0
  let running = true
  const loop = (async () => {
    while (running) {
      const t = performance.now()
      try {
        const res = await httpCall(agent, httpUrl, 'GET', '/healthz')
        if (res.status === 200) samples.push(performance.now() - t)
        else failed++
      } catch {
        failed++
      }
      await sleep(everyMs)
    }
  })()
  return {
    async stop() {
      running = false
      await loop
      agent.destroy()
      return { ...summarizeLatencies(samples), failed }
    },
  }
}
