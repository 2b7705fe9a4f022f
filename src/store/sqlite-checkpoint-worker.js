// A worker thread with its own SQLite connection that moves WAL frames into the database file
// (PASSIVE checkpoints: writers are never blocked). This takes the checkpoint's reads, writes and
// fsyncs off the main thread, where SQLite's auto-checkpoint would stall every socket for a few ms.
// Plain JS on purpose: the worker needs no TypeScript loader.
import Database from 'better-sqlite3'
import { parentPort, workerData } from 'node:worker_threads'

const { path, intervalMs } = workerData
const db = new Database(path)
db.pragma('busy_timeout = 1000')

const timer = setInterval(() => {
  try {
    const [result] = db.pragma('wal_checkpoint(PASSIVE)')
    if (result && result.log > 0) parentPort.postMessage({ type: 'checkpoint', log: result.log, checkpointed: result.checkpointed })
  } catch (err) {
    parentPort.postMessage({ type: 'error', message: String(err?.message) })
  }
}, intervalMs)

parentPort.on('message', (msg) => {
  if (msg === 'stop') {
    clearInterval(timer)
    db.close()
    parentPort.close()
  }
})
