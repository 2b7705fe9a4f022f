import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { within } from './wait-for.js'

const root = fileURLToPath(new URL('../..', import.meta.url))
/** tsx without passing a loader on to the node's worker threads; run-ts.js explains the flag. */
const runTs = [fileURLToPath(new URL('./run-ts.js', import.meta.url))]

/**
 * A chatgate node run as its own process (`src/main.ts` through tsx; the loader is registered by
 * run-ts.js, so the node's worker threads run their .js without it; or the build in dist/), its
 * JSON log lines parsed as they come. The one helper for tests that need a real process.
 */
export interface NodeProcess {
  proc: ChildProcess
  url: string
  port: number
  /** Every log line so far (stdout), parsed; a line that is not JSON is kept as `{msg}`. */
  logs: Record<string, any>[]
  /** Resolves when the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  /** Everything written to stderr. */
  stderr(): string
  /** stdout and stderr so far, for failure messages. */
  output(): string
  /** Resolves with the first log line (past or future) that `match` accepts; rejects after `ms` or when the node exits first. */
  waitForLog(match: (line: Record<string, any>) => boolean, ms?: number, what?: string): Promise<Record<string, any>>
  /** SIGTERM, then the exit code (SIGKILL and null when it does not exit within 15 s). Idempotent. */
  stop(): Promise<number | null>
  /** SIGKILL (a crash), resolved once the process is gone. */
  kill(): Promise<void>
}

/**
 * Test defaults of a node: a free port on 127.0.0.1, bcrypt cost 4, a known admin password, the
 * abuse limits lifted (tests share 127.0.0.1) and a generous store bound, as test/helpers/server.ts
 * does in process.
 */
const DEFAULT_ENV: Record<string, string> = {
  PORT: '0',
  HOST: '127.0.0.1',
  BCRYPT_COST: '4',
  LOG_LEVEL: 'info',
  CHATGATE_ADMIN_PASSWORD: 'admin-password-123',
  LOGIN_ATTEMPTS_PER_ACCOUNT_PER_MIN: '1000000',
  LOGIN_ATTEMPTS_PER_IP_PER_MIN: '1000000',
  REGISTRATIONS_PER_IP_PER_HOUR: '1000000',
  UPGRADES_PER_IP_PER_MIN: '1000000',
  // Many nodes share one PostgreSQL on a loaded machine: a slow query is not an outage here
  // (test/services/faults-store.test.ts sets the default bound back).
  STORE_TIMEOUT_MS: '10000',
}

/** The TypeScript entry point through tsx; test/build-dist passes `['dist/main.js']`, the compiled one. */
const SOURCE_ENTRY = [...runTs, 'src/main.ts']

/**
 * Starts a node with the test defaults overridden by `env` (on a minimal environment: PATH, HOME;
 * nothing else leaks in from the test process) and waits until it listens. `nodeArgs` follow `node`.
 */
export async function startNodeProcess(env: Record<string, string>, startTimeoutMs = 30_000, nodeArgs = SOURCE_ENTRY): Promise<NodeProcess> {
  const proc = spawn(process.execPath, nodeArgs, {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...DEFAULT_ENV, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const logs: Record<string, any>[] = []
  const waiters = new Set<() => void>()
  let out = ''
  let err = ''
  proc.stderr!.on('data', (d) => {
    err += d
    out += d
  })
  createInterface({ input: proc.stdout! }).on('line', (line) => {
    out += `${line}\n`
    try {
      logs.push(JSON.parse(line))
    } catch {
      logs.push({ msg: line })
    }
    for (const w of waiters) w()
  })
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once('exit', (code, signal) => resolve({ code, signal })),
  )
  const gone = () => proc.exitCode !== null || proc.signalCode !== null

  function waitForLog(match: (line: Record<string, any>) => boolean, ms = 10_000, what = 'a log line') {
    const found = logs.find(match)
    if (found) return Promise.resolve(found)
    let check: () => void = () => undefined
    const seen = new Promise<Record<string, any>>((resolve, reject) => {
      check = () => {
        const line = logs.find(match)
        if (line) resolve(line)
      }
      void exited.then(({ code, signal }) => reject(new Error(`node exited (${code ?? signal}) while waiting for ${what}; output:\n${out.slice(-3000)}`)))
    })
    waiters.add(check)
    return within(seen, ms, what).finally(() => waiters.delete(check))
  }

  const listening = await waitForLog((l) => l.event === 'listening', startTimeoutMs, 'the node to listen').catch((e) => {
    proc.kill('SIGKILL')
    throw e
  })
  const port = listening.port as number
  return {
    proc,
    port,
    url: `http://127.0.0.1:${port}`,
    logs,
    exited,
    stderr: () => err,
    output: () => out,
    waitForLog,
    async stop() {
      if (gone()) return proc.exitCode
      proc.kill('SIGTERM')
      const { code } = await within(exited, 15_000, 'the node to exit after SIGTERM').catch(() => {
        proc.kill('SIGKILL')
        return { code: null }
      })
      return code
    },
    async kill() {
      if (!gone()) proc.kill('SIGKILL')
      await within(exited, 10_000, 'the killed node to exit')
    },
  }
}
