// Preloaded into every benchmarked server (`--import bench/servers/probe.js`, with `--expose-gc`):
// answers the runner's IPC questions without touching the server's own code.
//   {type: 'memory'} → full GC, then {type: 'memory', rss, heapUsed, heapTotal, external, arrayBuffers} (bytes)
//   {type: 'cpu'}    → {type: 'cpu', user, system} (µs, whole process: every thread)
//   {type: 'heap-snapshot', path} → full GC, writes a V8 heap snapshot there (bench/heap-top.ts reads it)
// Plain JS on purpose: worker threads (chatgate's bcrypt pool) inherit the --import flags but not
// a TypeScript loader in time.
import { writeHeapSnapshot } from 'node:v8'
import { isMainThread } from 'node:worker_threads'

/** @type {(() => void) | undefined} */
const gc = /** @type {any} */ (globalThis).gc

if (isMainThread && process.send) {
  const send = process.send.bind(process)
  process.on('message', (/** @type {{ type: string, id: number, path?: string }} */ q) => {
    if (q.type === 'memory') {
      // Two passes: the first may only queue finalizers that free more on the second.
      gc?.()
      gc?.()
      const m = process.memoryUsage()
      send({
        type: 'memory',
        id: q.id,
        gc: gc !== undefined,
        rss: m.rss,
        heapUsed: m.heapUsed,
        heapTotal: m.heapTotal,
        external: m.external,
        arrayBuffers: m.arrayBuffers,
      })
    } else if (q.type === 'heap-snapshot' && q.path) {
      gc?.()
      send({ type: 'heap-snapshot', id: q.id, path: writeHeapSnapshot(q.path) })
    } else if (q.type === 'cpu') {
      const c = process.cpuUsage()
      send({ type: 'cpu', id: q.id, user: c.user, system: c.system })
    }
  })
  // The IPC channel must not keep a server alive once it has been told to stop.
  process.channel?.unref()
}
