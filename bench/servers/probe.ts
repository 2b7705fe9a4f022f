/**
 * Preloaded into every benchmarked server (`--import bench/servers/probe.ts`, with `--expose-gc`):
 * answers the runner's IPC questions without touching the server's own code.
 *   {type: 'memory'} → full GC, then {type: 'memory', rss, heapUsed, external, arrayBuffers} (bytes)
 *   {type: 'cpu'}    → {type: 'cpu', user, system} (µs, whole process: every thread)
 */
type Question = { type: 'memory' | 'cpu'; id: number }

const gc = (globalThis as { gc?: () => void }).gc

if (process.send) {
  process.on('message', (q: Question) => {
    if (q.type === 'memory') {
      // Two passes: the first may only queue finalizers that free more on the second.
      gc?.()
      gc?.()
      const m = process.memoryUsage()
      process.send!({ type: 'memory', id: q.id, gc: gc !== undefined, rss: m.rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers })
    } else if (q.type === 'cpu') {
      const c = process.cpuUsage()
      process.send!({ type: 'cpu', id: q.id, user: c.user, system: c.system })
    }
  })
  // The IPC channel must not keep a server alive once it has been told to stop.
  process.channel?.unref()
}
