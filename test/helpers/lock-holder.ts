import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const childFile = fileURLToPath(new URL('./lock-holder-child.js', import.meta.url))

/** A child process that keeps taking the SQLite write lock on `dbPath` until stop(). */
export interface LockHolder {
  /** Resolves after its first committed write; rejects if that takes longer than `readyMs`. */
  ready: Promise<void>
  /** Stops it and resolves with the number of transactions it committed. */
  stop(): Promise<number>
}

export function startLockHolder(dbPath: string, options: { holdMs?: number; readyMs?: number } = {}): LockHolder {
  const child = spawn(process.execPath, [childFile, dbPath, String(options.holdMs ?? 30)], { stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  const exited = new Promise<number>((resolve, reject) => {
    child.on('exit', (code) => {
      const commits = /commits (\d+)/.exec(out)
      if (code === 0 && commits) resolve(Number(commits[1]))
      else reject(new Error(`lock holder exited with ${code}: ${out}`))
    })
  })
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('lock holder not ready in time')), options.readyMs ?? 10_000)
    child.stdout.setEncoding('utf8')
    child.stdout.on('data', (d: string) => {
      out += d
      if (out.includes('ready\n')) {
        clearTimeout(timer)
        resolve()
      }
    })
    child.on('exit', () => {
      clearTimeout(timer)
      reject(new Error(`lock holder exited before it was ready: ${out}`))
    })
  })
  ready.catch(() => undefined)
  return {
    ready,
    stop() {
      if (child.exitCode === null) child.kill('SIGTERM')
      return exited
    },
  }
}

/** A child process holding the SQLite write lock of a file in one transaction, for a fixed time. */
export interface WriteLockHold {
  /** Resolves once the child holds the write lock; rejects if that takes longer than `readyMs`. */
  locked: Promise<void>
  /** Resolves once the child committed and exited (the lock is free); rejects if it failed. */
  released: Promise<void>
}

/**
 * Takes the write lock of `dbPath` in another process (BEGIN IMMEDIATE) and keeps it for `holdMs`
 * without a break, as a long CLI command, a VACUUM or an operator's `sqlite3` shell would.
 */
export function holdWriteLock(dbPath: string, holdMs: number, options: { readyMs?: number } = {}): WriteLockHold {
  const child = spawn(process.execPath, [childFile, dbPath, String(holdMs), 'once'], { stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  child.stdout.setEncoding('utf8')
  const locked = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the lock was not taken in time')), options.readyMs ?? 10_000)
    child.stdout.on('data', (d: string) => {
      out += d
      if (out.includes('locked\n')) {
        clearTimeout(timer)
        resolve()
      }
    })
    child.on('exit', () => {
      clearTimeout(timer)
      reject(new Error(`the lock holder exited before it held the lock: ${out}`))
    })
  })
  const released = new Promise<void>((resolve, reject) => {
    // 'close', not 'exit': by then every byte it printed has been read.
    child.on('close', (code) => (code === 0 && out.includes('released\n') ? resolve() : reject(new Error(`lock holder exited with ${code}: ${out}`))))
  })
  locked.catch(() => undefined)
  released.catch(() => undefined)
  return { locked, released }
}
