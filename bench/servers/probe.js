// Preloaded into every benchmarked server (`--import bench/servers/probe.js`, with `--expose-gc`):
// answers the runner's IPC questions without touching the server's own code.
//   {type: 'memory'} → the young generation filled (fillYoungGeneration), full GC, a second to
//                      settle, full GC again, then
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

/**
 * Allocates and drops garbage worth twice the young generation's capacity, so that V8 has both
 * semi-spaces committed and touched at every reading. V8 uncommits them when a server goes idle,
 * but the pages did not always leave RSS with them (a bare ws server's young generation read
 * 30 → 0.5 MiB over a hold while its RSS kept them), so subtracting what V8 reported could read a
 * connection ±0.9–1.9 KiB off at 8k–19k; filled at both readings, it is the same size in both.
 */
function fillYoungGeneration() {
  const capacity = getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0
  let sink = 0
  for (let bytes = 0; bytes < 2 * capacity; bytes += 8 * 1024) sink += new Array(1024).fill(bytes).length
  return sink
}

if (isMainThread && process.send) {
  const send = process.send.bind(process)
  process.on('message', (/** @type {{ type: string, id: number, path?: string }} */ q) => {
    if (q.type === 'memory') {
      fillYoungGeneration()
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
