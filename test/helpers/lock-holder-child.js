// A second process writing to a chatgate SQLite file, like a busy CLI. Plain JS so it starts fast.
// Two modes:
// * `repeat` (default): it holds the write lock for HOLD_MS in each transaction, then leaves it free
//   for as long, again and again, so the server's writes keep meeting a locked file. Prints "ready"
//   after its first commit and "commits N" when told to stop (SIGTERM).
// * `once`: it takes the write lock in ONE transaction (BEGIN IMMEDIATE), prints "locked", keeps it
//   for HOLD_MS without letting go, commits, prints "released" and exits (a long CLI command, VACUUM).
import Database from 'better-sqlite3'

const [path, holdArg, mode = 'repeat'] = process.argv.slice(2)
const holdMs = Number(holdArg ?? 30)
const db = new Database(path)
db.pragma('busy_timeout = 5000')
const block = new Int32Array(new SharedArrayBuffer(4))

if (mode === 'once') holdOnce()
else repeat()

function holdOnce() {
  db.exec('BEGIN IMMEDIATE')
  process.stdout.write('locked\n')
  Atomics.wait(block, 0, 0, holdMs) // keep the write lock, synchronously: nothing can release it early
  db.exec('COMMIT')
  db.close()
  process.stdout.write('released\n')
}

function repeat() {
  const upsert = db.prepare(`INSERT INTO nodes (id, started_at, heartbeat_at) VALUES ('lock-holder', 0, ?)
    ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at`)
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
}
