import { spawn, type ChildProcess } from 'node:child_process'
import { within } from './ws.js'

/** chatgate running as a child process (`node --import tsx src/main.ts`), for signals and crashes. */
export interface ChildServer {
  child: ChildProcess
  url: string
  port: number
  /** stdout + stderr so far (JSON log lines). */
  output(): string
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>
}

/** Starts src/main.ts with `env` on 127.0.0.1:<free port>; resolves once it logs `listening`. */
export async function spawnServer(env: Record<string, string>): Promise<ChildServer> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: process.cwd(),
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', BCRYPT_COST: '4', LOG_LEVEL: 'info', CHATGATE_ADMIN_PASSWORD: 'admin-password-123', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  child.stdout!.on('data', (d) => (out += d))
  child.stderr!.on('data', (d) => (out += d))
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  const port = await within(
    new Promise<number>((resolve, reject) => {
      const onData = () => {
        const m = /"event":"listening"[^\n]*"port":(\d+)/.exec(out)
        if (m) {
          child.stdout!.off('data', onData)
          resolve(Number(m[1]))
        }
      }
      child.stdout!.on('data', onData)
      void exited.then((code) => reject(new Error(`server exited (${code}) before listening:\n${out}`)))
    }),
    20_000,
    'the child server to listen',
  )
  return { child, url: `http://127.0.0.1:${port}`, port, output: () => out, exited }
}
