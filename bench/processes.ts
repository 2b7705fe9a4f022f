import { readFileSync } from 'node:fs'
import { spawn, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { ClientJob } from './client/main.js'
import { pinned } from './machine.js'

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, '..')

/** The servers of a run: chatgate itself and the three references. */
export type ServerKind = 'chatgate' | 'ws' | 'samework' | 'socketio'
export const serverLabel: Record<ServerKind, string> = { chatgate: 'chatgate', ws: 'bare ws', samework: 'same-work ws', socketio: 'Socket.IO 4' }

const entries: Record<ServerKind, string> = {
  chatgate: join(root, 'src/main.ts'),
  ws: join(here, 'servers/bare-ws.ts'),
  samework: join(here, 'servers/same-work.ts'),
  socketio: join(here, 'servers/socketio.ts'),
}

/**
 * chatgate runs from the compiled build (`node dist/main.js`, what `npm start` runs) when the runner
 * found dist/ up to date (bench/build.ts), from the TypeScript sources through tsx otherwise.
 */
let chatgateFromBuild = false
export function useChatgateBuild(yes: boolean): void {
  chatgateFromBuild = yes
}
export const chatgateStartsFromBuild = () => chatgateFromBuild

/**
 * How long a server may take to answer its first GET /healthz. Generous on purpose: on a loaded
 * machine, compiling chatgate's TypeScript at start took over 30 s (BENCH_START_TIMEOUT_MS overrides).
 */
export const START_TIMEOUT_MS = Number(process.env.BENCH_START_TIMEOUT_MS) || 180_000

/** Bytes, after a full GC inside the server. */
export interface MemorySample {
  rss: number
  /** The private part of the RSS (`RssAnon` in /proc/PID/status): RSS without file pages such as SQLite's memory map. */
  rssAnon: number
  heapUsed: number
  /** V8 heap reserved (committed), used or not. */
  heapTotal: number
  external: number
  arrayBuffers: number
  /** Bytes V8's young generation holds in memory (part of `rss` and `rssAnon`; see bench/servers/probe.js). */
  young: number
}

export interface RunningServer {
  kind: ServerKind
  pid: number
  httpUrl: string
  /** Where the load generator dials: /ws for chatgate and bare ws, the origin for Socket.IO. */
  dialUrl: string
  memory(): Promise<MemorySample>
  /** CPU time of the whole server process (all threads) so far. */
  cpuTime(): Promise<CpuTime>
  /** Writes a V8 heap snapshot (after a full GC) to `path`. */
  heapSnapshot(path: string): Promise<void>
  /** SIGTERM, then SIGKILL if it has not exited within the grace. */
  stop(): Promise<void>
  /** Error lines the server logged so far (pino level ≥ 50 on stdout, anything on stderr but warnings). */
  loggedErrors(): string[]
  /** When its first GET /healthz answered 200 (performance.now() of the runner). */
  readyAt: number
}

/** CPU time of a server process so far, all threads, in µs: in its own code and in the kernel. */
export interface CpuTime {
  user: number
  system: number
}

export interface ServerOptions {
  kind: ServerKind
  dbPath: string
  cpu: number | null
  /** Extra environment (chatgate's settings). */
  env?: Record<string, string>
  /** Write a V8 CPU profile of the server into this folder (on exit). */
  cpuProfDir?: string
  /** Listen on this port (a restart on the same address); a free one otherwise. */
  port?: number
  /** Extra node/V8 flags (the memory scenario fixes the young generation's size). */
  nodeFlags?: string[]
}

/** A free TCP port on 127.0.0.1 (released before the server binds it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number }
      s.close(() => resolve(port))
    })
  })
}

/** Request/response over a child's IPC channel, matched by id. */
function ipcCaller(child: ChildProcess) {
  let nextId = 1
  const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>()
  child.on('message', (m: { id: number; error?: string }) => {
    const w = waiting.get(m.id)
    if (!w) return
    waiting.delete(m.id)
    if (m.error !== undefined) w.reject(new Error(m.error))
    else w.resolve(m)
  })
  child.once('exit', (code, signal) => {
    for (const w of waiting.values()) w.reject(new Error(`process exited (${signal ?? code}) while a request was pending`))
    waiting.clear()
  })
  return <T>(msg: object): Promise<T> =>
    new Promise((resolve, reject) => {
      const id = nextId++
      waiting.set(id, { resolve: (v) => resolve(v as T), reject })
      child.send({ ...msg, id }, (err) => {
        if (err) {
          waiting.delete(id)
          reject(err)
        }
      })
    })
}

/** Collects the error lines a child logs (see RunningServer.loggedErrors), keeping the first 20. */
export function errorLines(stdout: NodeJS.ReadableStream | null, stderr: NodeJS.ReadableStream | null): () => string[] {
  const found: string[] = []
  const watch = (stream: NodeJS.ReadableStream | null, isError: (line: string) => boolean) => {
    let rest = ''
    stream?.on('data', (d: Buffer) => {
      const lines = (rest + d.toString()).split('\n')
      rest = lines.pop() ?? ''
      for (const line of lines) if (found.length < 20 && line.trim() !== '' && isError(line)) found.push(line.slice(0, 300))
    })
  }
  watch(stdout, (line) => /"level":\s*(5\d|6\d)\b/.test(line))
  watch(stderr, (line) => !/Warning|^\(node:\d+\)|--trace-warnings/.test(line) && !/"level":\s*[1-4]\d\b/.test(line))
  return () => [...found]
}

/** Keeps the last few KiB a child wrote, for error messages. */
function tail(stream: NodeJS.ReadableStream | null): () => string {
  let text = ''
  stream?.on('data', (d: Buffer) => {
    text = (text + d.toString()).slice(-4000)
  })
  return () => text
}

function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true)
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms)
    child.once('exit', () => {
      clearTimeout(timer)
      resolve(true)
    })
  })
}

/** Starts a server pinned to `cpu`, with --expose-gc and the probe, and waits for GET /healthz. */
export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const port = opts.port ?? (await freePort())
  const profile = opts.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${opts.cpuProfDir}`] : []
  const fromBuild = opts.kind === 'chatgate' && chatgateFromBuild
  const argv = pinned(opts.cpu, [
    process.execPath,
    '--expose-gc',
    ...(opts.nodeFlags ?? []),
    ...profile,
    ...(fromBuild ? [] : ['--import', 'tsx']),
    '--import',
    join(here, 'servers/probe.js'),
    fromBuild ? join(root, 'dist/main.js') : entries[opts.kind],
  ])
  const child = spawn(argv[0]!, argv.slice(1), {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: { ...process.env, ...opts.env, PORT: String(port), HOST: '127.0.0.1', DATABASE_URL: opts.dbPath },
  })
  const output = tail(child.stderr)
  const stdout = tail(child.stdout)
  const loggedErrors = errorLines(child.stdout, child.stderr)
  const call = ipcCaller(child)
  const httpUrl = `http://127.0.0.1:${port}`
  const server: RunningServer = {
    kind: opts.kind,
    pid: child.pid!,
    httpUrl,
    dialUrl: opts.kind === 'socketio' ? httpUrl : `ws://127.0.0.1:${port}/ws`,
    async memory() {
      const m = await call<MemorySample & { gc: boolean }>({ type: 'memory' })
      if (!m.gc) throw new Error('the server was started without --expose-gc')
      return {
        rss: m.rss,
        rssAnon: rssAnonOf(child.pid!),
        heapUsed: m.heapUsed,
        heapTotal: m.heapTotal,
        external: m.external,
        arrayBuffers: m.arrayBuffers,
        young: m.young,
      }
    },
    async cpuTime() {
      return call<CpuTime>({ type: 'cpu' })
    },
    async heapSnapshot(path) {
      await call({ type: 'heap-snapshot', path })
    },
    async stop() {
      child.kill('SIGTERM')
      if (!(await waitExit(child, 15_000))) {
        child.kill('SIGKILL')
        await waitExit(child, 5_000)
      }
    },
    loggedErrors,
    readyAt: Number.NaN,
  }
  const deadline = Date.now() + START_TIMEOUT_MS
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${serverLabel[opts.kind]} exited at start (${child.exitCode ?? child.signalCode}):\n${output()}${stdout()}`)
    }
    try {
      const res = await fetch(`${httpUrl}/healthz`, { signal: AbortSignal.timeout(1000) })
      if (res.ok) {
        server.readyAt = performance.now()
        return server
      }
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await server.stop()
      throw new Error(`${serverLabel[opts.kind]} did not answer /healthz within ${START_TIMEOUT_MS / 1000} s:\n${output()}`)
    }
    await new Promise((r) => setTimeout(r, 20))
  }
}

/** The load generator process. */
export interface LoadClient {
  run<T>(job: ClientJob): Promise<T>
  stop(): Promise<void>
}

/** Starts bench/client/main.ts pinned to `cpu`. */
export async function startClient(cpu: number | null): Promise<LoadClient> {
  const argv = pinned(cpu, [process.execPath, '--import', 'tsx', join(here, 'client/main.ts')])
  const child = spawn(argv[0]!, argv.slice(1), { cwd: root, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const call = ipcCaller(child)
  return {
    async run<T>(job: ClientJob) {
      const m = await call<{ result: T }>({ job })
      return m.result
    },
    async stop() {
      child.disconnect()
      if (!(await waitExit(child, 10_000))) child.kill('SIGKILL')
    },
  }
}

/** Bytes of `RssAnon` of a process (Linux); NaN where /proc does not say. */
function rssAnonOf(pid: number): number {
  try {
    const kb = /^RssAnon:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return kb ? Number(kb[1]) * 1024 : Number.NaN
  } catch {
    return Number.NaN
  }
}
