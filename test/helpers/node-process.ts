import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { within } from './wait.js'

/** A chatgate node run as `node --import tsx src/main.ts`, its JSON log lines parsed as they come. */
export interface NodeProcess {
  proc: ChildProcess
  url: string
  port: number
  /** Every JSON log line so far (stdout), parsed. */
  logs: Record<string, any>[]
  /** Everything written to stderr. */
  stderr: () => string
  /** Resolves with the first log line (past or future) that `match` accepts, or rejects after `ms`. */
  waitForLog(match: (line: Record<string, any>) => boolean, ms?: number, what?: string): Promise<Record<string, any>>
  /** SIGTERM and the exit code. */
  stop(): Promise<number | null>
}

/** Starts a node with `env` (on top of a minimal environment: PATH, HOME) and waits until it listens. */
export async function startNodeProcess(env: Record<string, string>, startTimeoutMs = 30_000): Promise<NodeProcess> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const logs: Record<string, any>[] = []
  const waiters = new Set<() => void>()
  let err = ''
  proc.stderr!.on('data', (d) => (err += d))
  createInterface({ input: proc.stdout! }).on('line', (line) => {
    try {
      logs.push(JSON.parse(line))
    } catch {
      logs.push({ msg: line })
    }
    for (const w of waiters) w()
  })

  function waitForLog(match: (line: Record<string, any>) => boolean, ms = 10_000, what = 'a log line') {
    const found = logs.find(match)
    if (found) return Promise.resolve(found)
    let check: () => void = () => undefined
    const seen = new Promise<Record<string, any>>((resolve, reject) => {
      check = () => {
        const line = logs.find(match)
        if (line) resolve(line)
      }
      proc.once('exit', (code) => reject(new Error(`node exited (${code}) while waiting for ${what}; stderr: ${err.slice(-2000)}`)))
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
    stderr: () => err,
    waitForLog,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode
      const exited = once(proc, 'exit')
      proc.kill('SIGTERM')
      const [code] = (await within(exited, 15_000, 'the node to exit after SIGTERM').catch(() => {
        proc.kill('SIGKILL')
        return [null]
      })) as [number | null]
      return code
    },
  }
}
