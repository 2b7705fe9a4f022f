// A piscina worker that loads the real password worker (which sets its thread's niceness from
// workerData at import) and reports the niceness this thread ends up with.
import { getPriority } from 'node:os'
import { workerData } from 'node:worker_threads'

await import(workerData.workerFile)

export default function probe() {
  return getPriority()
}
