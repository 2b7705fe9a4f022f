import { Worker } from 'node:worker_threads'

/** How often the checkpoint worker runs a PASSIVE checkpoint. */
export const CHECKPOINT_INTERVAL_MS = 1_000
/**
 * SQLite's own auto-checkpoint stays on as a safety net, at a size (pages of 4 KiB) the worker
 * keeps the WAL far below; it only fires on the main thread if the worker stopped working.
 */
export const FALLBACK_AUTOCHECKPOINT_PAGES = 16_384

const workerFile = new URL('./sqlite-checkpoint-worker.js', import.meta.url)

export interface CheckpointReport {
  type: 'checkpoint' | 'error'
  log?: number
  checkpointed?: number
  message?: string
}

/** Runs WAL checkpoints of `path` on a worker thread; `onReport` hears each one (tests, logs). */
export class SqliteCheckpointer {
  private readonly worker: Worker
  private stopped: Promise<void> | undefined

  constructor(path: string, onReport: (r: CheckpointReport) => void = () => {}, intervalMs = CHECKPOINT_INTERVAL_MS) {
    this.worker = new Worker(workerFile, { workerData: { path, intervalMs } })
    this.worker.on('message', onReport)
    this.worker.on('error', (err) => onReport({ type: 'error', message: err.message }))
    // Never keeps the process alive: the main connection can always checkpoint by itself.
    this.worker.unref()
  }

  /** Stops the worker and closes its connection. Idempotent. */
  stop(): Promise<void> {
    this.stopped ??= new Promise<void>((resolve) => {
      this.worker.once('exit', () => resolve())
      // Held while stopping, or nothing would keep the loop alive until the worker has exited.
      this.worker.ref()
      this.worker.postMessage('stop')
      setTimeout(() => void this.worker.terminate(), 2_000).unref()
    })
    return this.stopped
  }
}
