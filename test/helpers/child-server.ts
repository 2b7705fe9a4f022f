import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { within } from './wait-for.js'

const root = fileURLToPath(new URL('../..', import.meta.url))

/** chatgate running as its own process (`node --import tsx src/main.ts`), as in production. */
export interface ChildServer {
  proc: ChildProcess
  url: string
  port: number
  /** Parsed JSON log lines from stdout so far. */
  logs: Array<Record<string, unknown>>
  /** Resolves when the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  /** stdout and stderr so far, for failure messages. */
  output(): string
}

/** Starts chatgate on a free port over `databaseUrl`; resolves once it logs `listening`. */
export async function spawnServer(databaseUrl: string, env: Record<string, string> = {}): Promise<ChildServer> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      PORT: '0',
      HOST: '127.0.0.1',
      DATABASE_URL: databaseUrl,
      BCRYPT_COST: '4',
      LOG_LEVEL: 'info',
      CHATGATE_ADMIN_PASSWORD: 'admin-password-123',
      LOGIN_ATTEMPTS_PER_ACCOUNT_PER_MIN: '1000000',
      LOGIN_ATTEMPTS_PER_IP_PER_MIN: '1000000',
      REGISTRATIONS_PER_IP_PER_HOUR: '1000000',
      ...env,
    },
  })
  let text = ''
  let pending = ''
  let onListening: (port: number) => void = () => {}
  const logs: Array<Record<string, unknown>> = []
  proc.stdout!.on('data', (d: Buffer) => {
    text += d
    pending += d
    const lines = pending.split('\n')
    pending = lines.pop() ?? ''
    for (const line of lines) {
      try {
        const entry = JSON.parse(line) as Record<string, unknown>
        logs.push(entry)
        if (entry.event === 'listening') onListening(Number(entry.port))
      } catch {
        // not a log line
      }
    }
  })
  proc.stderr!.on('data', (d: Buffer) => (text += d))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once('exit', (code, signal) => resolve({ code, signal })),
  )
  const listening = new Promise<number>((resolve, reject) => {
    onListening = resolve
    void exited.then(({ code, signal }) => reject(new Error(`chatgate exited (${code ?? signal}) before listening:\n${text}`)))
  })
  try {
    const port = await within(listening, 30_000, 'the child server to listen')
    return { proc, url: `http://127.0.0.1:${port}`, port, logs, exited, output: () => text }
  } catch (e) {
    proc.kill('SIGKILL')
    throw e
  }
}
