// Does a second node add handshake throughput? Runs chatgate on PostgreSQL + Redis as one node,
// then as two nodes (each pinned to its own core with taskset when there are two), and drives
// WebSocket handshakes (Token/Username headers → 101 → welcome frame) from a separate load
// generator process that spreads connections round-robin over the nodes. Sockets are held open
// until the run ends. Prints handshakes/s for each layout and the ratio two/one.
//
//   npx tsx bench/two-nodes.ts [--handshakes 2000] [--concurrency 64] [--devices-per-user 1]
//
// With one device per user a handshake costs the session lookup, the welcome's device list and a
// connection row. With several (`--devices-per-user 4`: every user's devices connect at once, as
// after a node restart) each arrival also pushes `devices` frames to the user's other sockets, and
// with two nodes both nodes read the list (the other one on the `devices_changed` bus event).
//
// Needs PostgreSQL and Redis (CHATGATE_BENCH_PG_URL, default postgres://postgres@127.0.0.1:5432/test;
// CHATGATE_BENCH_REDIS_URL, default redis://127.0.0.1:6379). It creates a schema `cgb_<hex>` and
// keys under `cgb:<hex>:`, and removes both at the end. Sessions are written straight into the
// store (no bcrypt), so only handshakes are measured.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { availableParallelism, cpus, loadavg } from 'node:os'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { Redis } from 'ioredis'
import pg from 'pg'
import WebSocket from 'ws'
import { createId, createToken, hashToken } from '../src/auth/tokens.js'
import { openStore } from '../src/store/open.js'

const root = fileURLToPath(new URL('..', import.meta.url))
const PG_URL = process.env.CHATGATE_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const REDIS_URL = process.env.CHATGATE_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379'

interface Credential {
  token: string
  username: string
}
/** What the load generator is told (on stdin) and answers (last stdout line). */
interface LoadPlan {
  urls: string[]
  concurrency: number
  warmup: Credential[]
  measure: Credential[]
}
interface LoadResult {
  ok: number
  failed: number
  failures: Record<string, number>
  elapsedMs: number
  p50: number
  p99: number
}

// ── load generator (child process) ─────────────────────────────────────────────────────────────

/** Opens one socket and resolves on its welcome frame (the end of a handshake), or rejects. */
function handshake(url: string, c: Credential): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/ws`, { headers: { Token: c.token, Username: c.username } })
    const timer = setTimeout(() => fail('timeout'), 30_000)
    const fail = (why: string) => {
      clearTimeout(timer)
      ws.terminate()
      reject(new Error(why))
    }
    ws.once('unexpected-response', (_req, res) => fail(`http ${res.statusCode}`))
    ws.once('error', (e) => fail(e.message))
    ws.once('message', (data) => {
      clearTimeout(timer)
      const frame = JSON.parse(String(data)) as { type: string }
      if (frame.type !== 'welcome') return fail(`first frame ${frame.type}`)
      ws.on('error', () => undefined)
      resolve(ws)
    })
  })
}

/** `concurrency` workers take credentials in turn; connection i goes to node i mod n. */
async function drive(plan: LoadPlan, creds: Credential[], held: WebSocket[]): Promise<LoadResult> {
  const latencies: number[] = []
  const failures: Record<string, number> = {}
  let next = 0
  const started = performance.now()
  const worker = async () => {
    for (let i = next++; i < creds.length; i = next++) {
      const t0 = performance.now()
      try {
        held.push(await handshake(plan.urls[i % plan.urls.length]!, creds[i]!))
        latencies.push(performance.now() - t0)
      } catch (e) {
        const why = (e as Error).message
        failures[why] = (failures[why] ?? 0) + 1
      }
    }
  }
  await Promise.all(Array.from({ length: plan.concurrency }, worker))
  const elapsedMs = performance.now() - started
  latencies.sort((a, b) => a - b)
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.ceil((p / 100) * latencies.length) - 1)] ?? NaN
  const failed = Object.values(failures).reduce((a, b) => a + b, 0)
  return { ok: latencies.length, failed, failures, elapsedMs, p50: pct(50), p99: pct(99) }
}

async function closeAll(sockets: WebSocket[]): Promise<void> {
  await Promise.all(
    sockets.splice(0).map(
      (ws) =>
        new Promise<void>((resolve) => {
          if (ws.readyState === WebSocket.CLOSED) return resolve()
          ws.once('close', () => resolve())
          ws.close(1000)
          setTimeout(() => ws.terminate(), 5_000).unref()
        }),
    ),
  )
}

async function runLoadgen(): Promise<void> {
  let input = ''
  for await (const chunk of process.stdin) input += chunk
  const plan = JSON.parse(input) as LoadPlan
  const held: WebSocket[] = []
  await drive(plan, plan.warmup, held)
  await closeAll(held)
  process.stdout.write('measuring\n') // the parent samples CPU counters now
  const result = await drive(plan, plan.measure, held)
  await closeAll(held)
  process.stdout.write(`${JSON.stringify(result)}\n`)
}

// ── orchestration ──────────────────────────────────────────────────────────────────────────────

const hasTaskset = () => spawnSync('taskset', ['-V'], { stdio: 'ignore' }).status === 0

/** Starts one node (pinned to `core` when given) and resolves with its URL once it listens. */
function startNode(env: Record<string, string>, core: number | null): Promise<{ child: ChildProcess; url: string }> {
  const node = [process.execPath, '--import', 'tsx', 'src/main.ts']
  const [cmd, ...args] = core === null ? node : ['taskset', '-c', String(core), ...node]
  const child = spawn(cmd!, args, {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('a node did not start within 60 s')), 60_000)
    let found = false
    // Every line is read (a full pipe would stall the node); only the first `listening` matters.
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (found || !line.includes('"event":"listening"')) return
      found = true
      clearTimeout(timer)
      resolve({ child, url: `http://127.0.0.1:${(JSON.parse(line) as { port: number }).port}` })
    })
    child.once('exit', (code) => reject(new Error(`a node exited (${code}) before listening`)))
  })
}

async function stopNode(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise((r) => child.once('exit', r))
  child.kill('SIGTERM')
  await exited
}

/** CPU time (clock ticks) of a process, or of the whole machine (busy, all cores) without a pid; null off Linux. */
function cpuTicks(pid?: number): number | null {
  if (!existsSync('/proc/stat')) return null
  if (pid === undefined) {
    const [, ...f] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).map(Number)
    return f.reduce((a, b) => a + b, 0) - f[3]! - f[4]! // all but idle and iowait
  }
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const f = stat
    .slice(stat.lastIndexOf(')') + 2)
    .split(' ')
    .map(Number)
  return f[11]! + f[12]! // utime + stime (fields 14 and 15)
}

/** Runs the load generator; `onMeasure` is called when the measured pass starts. */
function runLoad(plan: LoadPlan, onMeasure: () => void): Promise<LoadResult> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--loadgen'], {
    cwd: root,
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  child.stdin!.end(JSON.stringify(plan))
  let out = ''
  child.stdout!.on('data', (d) => {
    out += d
    if (String(d).includes('measuring\n')) onMeasure()
  })
  return new Promise((resolve, reject) =>
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`the load generator exited with ${code}`))
      resolve(JSON.parse(out.trim().split('\n').at(-1)!) as LoadResult)
    }),
  )
}

/** Users with `perUser` sessions each, straight into the store: the handshakes' credentials. */
async function createSessions(databaseUrl: string, count: number, perUser: number): Promise<Credential[]> {
  const store = await openStore(databaseUrl)
  const creds: Credential[] = []
  const now = Date.now()
  try {
    for (let u = 0; creds.length < count; u++) {
      const user = {
        id: createId(),
        username: `bench_${u}`,
        email: null,
        passwordHash: 'x',
        role: 'user' as const,
        firstName: null,
        lastName: null,
        createdAt: now,
      }
      await store.createUser(user)
      for (let d = 0; d < perUser && creds.length < count; d++) {
        const token = createToken()
        await store.createSession({
          id: createId(),
          userId: user.id,
          kind: 'user',
          deviceName: `device-${d}`,
          userAgent: 'bench',
          ip: '127.0.0.1',
          createdAt: now,
          lastSeenAt: now,
          expiresAt: now + 86_400_000,
          tokenHash: hashToken(token),
        })
        creds.push({ token, username: user.username })
      }
    }
  } finally {
    await store.close()
  }
  return creds
}

async function cleanUp(schema: string, prefix: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_URL })
  await client.connect()
  await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
  await client.end()
  const redis = new Redis(REDIS_URL, { lazyConnect: true })
  let cursor = '0'
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000)
    if (keys.length > 0) await redis.unlink(...keys)
    cursor = next
  } while (cursor !== '0')
  redis.disconnect()
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      handshakes: { type: 'string', default: '2000' },
      concurrency: { type: 'string', default: '64' },
      'devices-per-user': { type: 'string', default: '1' },
      loadgen: { type: 'boolean', default: false },
    },
  })
  if (values.loadgen) return runLoadgen()
  const handshakes = Number(values.handshakes)
  const concurrency = Number(values.concurrency)
  const perUser = Number(values['devices-per-user'])
  const warmupCount = Math.min(200, handshakes)

  const tag = randomBytes(4).toString('hex')
  const schema = `cgb_${tag}`
  const prefix = `cgb:${tag}:`
  const url = new URL(PG_URL)
  url.searchParams.set('schema', schema)
  const databaseUrl = url.toString()
  const cores = availableParallelism()
  const pin = hasTaskset() && cores >= 2
  const env = {
    DATABASE_URL: databaseUrl,
    REDIS_URL,
    REDIS_PREFIX: prefix,
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'info',
    HASH_WORKERS: '1',
    CHATGATE_ADMIN_PASSWORD: 'bench-admin-password',
    // One load generator on one IP opens every socket: lift the per-IP limits.
    UPGRADES_PER_IP_PER_MIN: '1000000',
    MAX_CONNECTIONS_PER_IP: '1000000',
  }
  console.log(
    `machine: ${cpus()[0]?.model.trim()}, ${cores} cores, Node ${process.version}, load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  )
  console.log(`nodes pinned with taskset: ${pin ? 'yes (node i on core i)' : 'no'}; PostgreSQL, Redis and the load generator are not pinned`)
  try {
    const creds = await createSessions(databaseUrl, warmupCount + handshakes, perUser)
    const results: Record<number, LoadResult> = {}
    for (const n of [1, 2]) {
      const nodes = await Promise.all(Array.from({ length: n }, (_, i) => startNode({ ...env, NODE_ID: `bench-node-${i + 1}` }, pin ? i % cores : null)))
      try {
        const plan = { urls: nodes.map((x) => x.url), concurrency, warmup: creds.slice(0, warmupCount), measure: creds.slice(warmupCount) }
        const pids = nodes.map((x) => x.child.pid!)
        let before: (number | null)[] = []
        const startedAt = { t: 0 }
        const r = await runLoad(plan, () => {
          before = [cpuTicks(), ...pids.map(cpuTicks)]
          startedAt.t = performance.now()
        })
        results[n] = r
        const after = [cpuTicks(), ...pids.map(cpuTicks)]
        const seconds = (performance.now() - startedAt.t) / 1000
        const ticksPerSec = 100 // USER_HZ on Linux
        const share = (i: number) => ((after[i]! - before[i]!) / ticksPerSec / seconds) * 100
        const rate = (r.ok / r.elapsedMs) * 1000
        console.log(
          `${n} node${n > 1 ? 's' : ' '}: ${r.ok}/${handshakes} handshakes in ${r.elapsedMs.toFixed(0)} ms → ${rate.toFixed(0)}/s` +
            ` (latency p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms)` +
            (r.failed > 0 ? `; failed: ${JSON.stringify(r.failures)}` : ''),
        )
        if (before[0] != null) {
          const perNode = pids.map((_, i) => `${share(i + 1).toFixed(0)}%`).join(', ')
          console.log(
            `        CPU during the run: node${n > 1 ? 's' : ''} ${perNode} of a core; machine ${(share(0) / cores).toFixed(0)}% busy (all processes, ${cores} cores)`,
          )
        }
      } finally {
        await Promise.all(nodes.map((x) => stopNode(x.child)))
      }
    }
    const rate = (r: LoadResult) => r.ok / r.elapsedMs
    console.log(`ratio two nodes / one node: ${(rate(results[2]!) / rate(results[1]!)).toFixed(2)}`)
  } finally {
    await cleanUp(schema, prefix)
  }
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
