// A second process writing to a chatgate SQLite file, like a busy CLI: it holds the write lock for
// HOLD_MS in each transaction, then leaves it free for as long, again and again, so the server's
// writes meet a locked file and must wait on busy_timeout. Plain JS so it starts fast. Prints
// "ready" after its first commit and "commits N" when told to stop (SIGTERM).
import Database from 'better-sqlite3'

const [path, holdArg] = process.argv.slice(2)
const holdMs = Number(holdArg ?? 30)
const db = new Database(path)
db.pragma('busy_timeout = 5000')
const upsert = db.prepare(`INSERT INTO nodes (id, started_at, heartbeat_at) VALUES ('lock-holder', 0, ?)
  ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at`)
const block = new Int32Array(new SharedArrayBuffer(4))
let commits = 0
let stopping = false

process.on('SIGTERM', () => {
  stopping = true
})

function round() {
  if (stopping) {
    db.prepare("DELETE FROM nodes WHERE id = 'lock-holder'").run()
    db.close()
    process.stdout.write(`commits ${commits}\n`)
    return
  }
  db.transaction(() => {
    upsert.run(Date.now())
    Atomics.wait(block, 0, 0, holdMs) // keep the write lock for a while, synchronously
  }).immediate()
  commits++
  if (commits === 1) process.stdout.write('ready\n')
  setTimeout(round, holdMs) // the lock is free meanwhile
}
round()
