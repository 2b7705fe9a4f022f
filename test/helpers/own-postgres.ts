import { execFile, execFileSync } from 'node:child_process'
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { freePort } from './free-port.js'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

/**
 * A PostgreSQL server of the test's own (initdb + pg_ctl, as the `postgres` user, in a temp dir, on
 * a free port): a test may stop and start it at will; the machine's shared server is never touched.
 */
export interface OwnPostgres {
  /** `postgres://postgres@127.0.0.1:PORT/postgres` (trust auth). */
  readonly url: string
  /** Stops the server (`-m fast`: clients are cut, as a crash or a restart would cut them). */
  stop(): Promise<void>
  /** Starts it again on the same port and data, resolved once it accepts connections. */
  start(): Promise<void>
  /**
   * Freezes every process of the server (SIGSTOP): connections stay open and nothing answers, as
   * with a hung host. `resume()` thaws them (SIGCONT).
   */
  pause(): Promise<void>
  resume(): Promise<void>
  /** Stops it (if running) and removes its data. */
  destroy(): Promise<void>
}

/** The newest installed PostgreSQL's bin directory (Debian: /usr/lib/postgresql/<major>/bin). */
function postgresBin(): string {
  const root = '/usr/lib/postgresql'
  const majors = existsSync(root) ? readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'pg_ctl'))) : []
  const newest = majors.sort((a, b) => Number(b) - Number(a))[0]
  if (!newest) throw new Error('no PostgreSQL server binaries under /usr/lib/postgresql/*/bin (install the postgresql package)')
  return join(root, newest, 'bin')
}

/** Runs a PostgreSQL tool as the `postgres` user (PostgreSQL refuses to run as root). */
function asPostgres(command: string, args: string[]): Promise<unknown> {
  const root = process.getuid?.() === 0
  return root ? run('runuser', ['-u', 'postgres', '--', command, ...args]) : run(command, args)
}

export async function startOwnPostgres(): Promise<OwnPostgres> {
  const bin = postgresBin()
  const dir = mkdtempSync(join(tmpdir(), 'chatgate-own-pg-'))
  if (process.getuid?.() === 0) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim())
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim())
    chownSync(dir, uid, gid)
  }
  const data = join(dir, 'data')
  const port = await freePort()
  let running = false
  const pgCtl = (...args: string[]) => asPostgres(join(bin, 'pg_ctl'), ['-D', data, ...args])
  await asPostgres(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync', '--no-instructions'])
  // Its own socket directory and port; durability is not what this server is for.
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off`
  const start = async () => {
    await pgCtl('-o', options, '-l', join(dir, 'server.log'), '-w', '-t', '30', 'start')
    running = true
  }
  const stop = async () => {
    if (!running) return
    await pgCtl('-m', 'fast', '-w', '-t', '30', 'stop')
    running = false
  }
  await start().catch((e) => {
    rmSync(dir, { recursive: true, force: true })
    throw e
  })
  /** The postmaster (first line of postmaster.pid) and its children: this server's processes only. */
  const processes = async (): Promise<number[]> => {
    const postmaster = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0])
    const { stdout } = await run('ps', ['-o', 'pid=', '--ppid', String(postmaster)]).catch(() => ({ stdout: '' }))
    return [
      postmaster,
      ...String(stdout)
        .split('\n')
        .map(Number)
        .filter((p) => p > 0),
    ]
  }
  let paused: number[] = []
  const resume = async () => {
    for (const pid of paused) {
      try {
        process.kill(pid, 'SIGCONT')
      } catch {
        // gone already
      }
    }
    paused = []
  }
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    stop,
    start,
    async pause() {
      paused = await processes()
      for (const pid of paused) process.kill(pid, 'SIGSTOP')
    },
    resume,
    async destroy() {
      await resume()
      await stop().catch(() => pgCtl('-m', 'immediate', 'stop').catch(() => undefined))
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
