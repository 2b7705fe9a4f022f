import { spawn, type ChildProcess } from 'node:child_process'
import { Redis } from 'ioredis'
import { freePort } from './free-port.js'
import { waitFor } from './wait-for.js'

/** A redis-server of one test's own, which it may pause and resume (never the shared one on 6379). */
export interface OwnRedis {
  readonly url: string
  readonly port: number
  /** SIGSTOP: the server keeps its connections open and answers nothing (a hung Redis). */
  pause(): void
  /** SIGCONT: it runs again and works through whatever was sent meanwhile. */
  resume(): void
  stop(): Promise<void>
}

/** Starts `redis-server` on a free port without persistence, and waits until it answers PING. */
export async function startOwnRedis(): Promise<OwnRedis> {
  const port = await freePort()
  const proc: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  })
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()))
  const url = `redis://127.0.0.1:${port}`
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null })
  probe.on('error', () => undefined) // refused until the server listens: the loop below retries
  try {
    await waitFor(
      async () => {
        try {
          if (probe.status !== 'ready') await probe.connect()
          return (await probe.ping()) === 'PONG'
        } catch {
          return false
        }
      },
      10_000,
      `redis-server on port ${port}`,
    )
  } finally {
    probe.disconnect()
  }
  return {
    url,
    port,
    pause: () => proc.kill('SIGSTOP'),
    resume: () => proc.kill('SIGCONT'),
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return
      proc.kill('SIGCONT')
      proc.kill('SIGKILL')
      await exited
    },
  }
}
