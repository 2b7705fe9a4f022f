// Preloaded into every benchmarked server (`--import bench/servers/probe.js`, with `--expose-gc`):
// answers the runner's IPC questions without touching the server's own code.
//   {type: 'memory'} → full GC, a second to settle, full GC again, then
//                      {type: 'memory', rss, heapUsed, heapTotal, external, arrayBuffers, young} (bytes;
//                      young: what V8's young generation holds in memory, see SETTLE_MS)
//   {type: 'cpu'}    → {type: 'cpu', user, system} (µs, whole process: every thread)
//   {type: 'heap-snapshot', path} → full GC, writes a V8 heap snapshot there (bench/heap-top.ts reads it)
// Plain JS on purpose: worker threads (chatgate's bcrypt pool) inherit the --import flags but not
// a TypeScript loader in time.
import { getHeapSpaceStatistics, writeHeapSnapshot } from 'node:v8'
import { isMainThread } from 'node:worker_threads'

/** @type {(() => void) | undefined} */
const gc = /** @type {any} */ (globalThis).gc

/**
 * After a full GC, V8 and the allocator give pages back over the next moments (a 19k-socket server
 * read ~22 MB less RSS one second later, the V8 heap unchanged), so memory is read after this
 * settle and one more GC: what the server holds, not what it is still releasing.
 */
const SETTLE_MS = 1000

/**
 * Bytes V8's young generation holds in memory. Its size is fixed in the memory scenario, but V8
 * still uncommits it when a server goes idle (a bare ws server holding sockets: 30 MB at the
 * baseline, 0.5 MB after the hold), which is no connection's memory; the runner reports RSS less it.
 */
const youngGeneration = () =>
  getHeapSpaceStatistics()
    .filter((s) => s.space_name === 'new_space' || s.space_name === 'new_large_object_space')
    .reduce((a, s) => a + s.physical_space_size, 0)

if (isMainThread && process.send) {
  const send = process.send.bind(process)
  process.on('message', (/** @type {{ type: string, id: number, path?: string }} */ q) => {
    if (q.type === 'memory') {
      // Two passes: the first may only queue finalizers that free more on the second.
      gc?.()
      gc?.()
      setTimeout(() => {
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
          young: youngGeneration(),
        })
      }, SETTLE_MS)
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
