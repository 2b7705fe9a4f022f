// Runs in a piscina worker thread so bcrypt never blocks the event loop. Plain JS on purpose: the
// worker needs no TypeScript loader. CommonJS on purpose: piscina loads a worker with require()
// first, and Node 20's require() of an ES module (on by default since 20.19) has crashed whole
// processes ("FATAL ERROR: v8::Module::IsGraphAsync…"); a CommonJS file takes no such path.
// Input lengths were checked by the caller (≤ 72 bytes).
const bcrypt = require('bcryptjs')
const { setPriority } = require('node:os')
const { workerData } = require('node:worker_threads')

// Lower this thread's scheduling priority (HASH_THREAD_NICE; Linux: per thread). When logins and live
// sockets share a core, the event loop then wins the CPU: a login burst costs login latency, not
// /healthz or frame latency. Raising niceness needs no privilege.
if (workerData && workerData.nice > 0) {
  try {
    setPriority(workerData.nice)
  } catch {
    // A platform that refuses it keeps the default priority.
  }
}

/** @param {{ op: 'hash', password: string, cost: number } | { op: 'compare', password: string, hash: string }} task */
module.exports = async function run(task) {
  if (task.op === 'hash') return bcrypt.hash(task.password, task.cost)
  if (task.op === 'compare') return bcrypt.compare(task.password, task.hash)
  throw new Error(`unknown password task ${String(task.op)}`)
}
