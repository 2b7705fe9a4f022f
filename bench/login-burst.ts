// Does a login burst stall other requests? Starts a real chatgate (child process, default
// BCRYPT_COST 10, fresh SQLite file), fires N concurrent logins while sampling GET /healthz every
// few ms, prints logins/s and the healthz latency (p50/p99/max) against the target p99 < 20 ms,
// and appends the result to bench/RESULTS.md.
//
//   npx tsx bench/login-burst.ts [--logins 50] [--users 5] [--interval-ms 5] [--no-record]
import { spawn, type ChildProcess } from 'node:child_process'
import { appendFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { availableParallelism, cpus, loadavg, platform, release, tmpdir, totalmem } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

const TARGET_P99_MS = 20
const root = fileURLToPath(new URL('..', import.meta.url))
const resultsFile = join(root, 'bench', 'RESULTS.md')

const { values: args } = parseArgs({
  options: {
    logins: { type: 'string', default: '50' },
    users: { type: 'string', default: '5' },
    'interval-ms': { type: 'string', default: '5' },
    'no-record': { type: 'boolean', default: false },
  },
})
const LOGINS = Number(args.logins)
const USERS = Number(args.users)
const INTERVAL_MS = Number(args['interval-ms'])
const PASSWORD = 'bench-password-123'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Starts `src/main.ts` on a free port over a temp database and resolves with its base URL. */
async function startServer(dir: string): Promise<{ child: ChildProcess; url: string }> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: join(dir, 'chatgate.db'),
    LOG_LEVEL: 'info', // the "listening" line tells the port
    CHATGATE_ADMIN_PASSWORD: 'bench-admin-password',
    // The burst comes from one IP: lift the login/registration rate limits (where the build has
    // them) so that the password pool, not the limiter, is what this measures.
    LOGIN_ATTEMPTS_PER_ACCOUNT_PER_MIN: '1000000',
    LOGIN_ATTEMPTS_PER_IP_PER_MIN: '1000000',
    REGISTRATIONS_PER_IP_PER_HOUR: '1000000',
  }
  delete env.BCRYPT_COST // the default (10) is what this bench is about
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: root, env, stdio: ['ignore', 'pipe', 'inherit'] })
  const url = await new Promise<string>((resolve, reject) => {
    let buf: string | null = ''
    const timer = setTimeout(() => reject(new Error('server did not start within 30 s')), 30_000)
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      if (buf === null) return // later log lines are read and dropped
      buf += d
      const m = /"event":"listening"[^\n]*"port":(\d+)/.exec(buf)
      if (m) {
        buf = null
        clearTimeout(timer)
        resolve(`http://127.0.0.1:${m[1]}`)
      }
    })
    child.on('exit', (code) => reject(new Error(`server exited with ${code} before listening`)))
  })
  return { child, url }
}

async function post(url: string, body: unknown): Promise<number> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  await res.arrayBuffer()
  return res.status
}

/** Samples GET /healthz every INTERVAL_MS until stop() and returns the latencies in ms. */
function sampleHealthz(url: string) {
  const latencies: number[] = []
  let running = true
  const done = (async () => {
    while (running) {
      const start = performance.now()
      const res = await fetch(`${url}/healthz`)
      await res.arrayBuffer()
      if (res.status !== 200) throw new Error(`healthz answered ${res.status}`)
      const took = performance.now() - start
      latencies.push(took)
      if (took < INTERVAL_MS) await sleep(INTERVAL_MS - took)
    }
  })()
  return {
    async stop() {
      running = false
      await done
      return latencies
    },
  }
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!
}

function summarize(latencies: number[]) {
  const s = [...latencies].sort((a, b) => a - b)
  return { n: s.length, p50: percentile(s, 50), p99: percentile(s, 99), max: s[s.length - 1] ?? NaN }
}

const fmt = (ms: number) => ms.toFixed(1)

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'chatgate-bench-'))
  const { child, url } = await startServer(dir)
  const load = loadavg().map((l) => l.toFixed(2)).join(' ')
  try {
    const users = Array.from({ length: USERS }, (_, i) => `bench-user-${i}`)
    for (const username of users) {
      const status = await post(`${url}/user/register`, { username, password: PASSWORD })
      if (status !== 201) throw new Error(`register ${username}: ${status}`)
    }
    // Warm up the connection pool and the JIT; then measure healthz alone as the baseline.
    for (let i = 0; i < 50; i++) await (await fetch(`${url}/healthz`)).arrayBuffer()
    const idleSampler = sampleHealthz(url)
    await sleep(1000)
    const idle = summarize(await idleSampler.stop())

    const sampler = sampleHealthz(url)
    const t0 = performance.now()
    const statuses = await Promise.all(
      Array.from({ length: LOGINS }, (_, i) => post(`${url}/session`, { username: users[i % USERS], password: PASSWORD, device_name: `bench-${i}` })),
    )
    const burstMs = performance.now() - t0
    const during = summarize(await sampler.stop())

    const ok = statuses.filter((s) => s === 200).length
    const loginsPerSec = (ok / burstMs) * 1000
    const pass = during.p99 < TARGET_P99_MS && ok === LOGINS
    const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU'
    const lines = [
      `logins: ${ok}/${LOGINS} ok in ${fmt(burstMs)} ms → ${loginsPerSec.toFixed(1)} logins/s` +
        (ok === LOGINS ? '' : ` (statuses: ${[...new Set(statuses)].join(',')})`),
      `healthz idle:        p50 ${fmt(idle.p50)} ms, p99 ${fmt(idle.p99)} ms, max ${fmt(idle.max)} ms (${idle.n} samples)`,
      `healthz during burst: p50 ${fmt(during.p50)} ms, p99 ${fmt(during.p99)} ms, max ${fmt(during.max)} ms (${during.n} samples)`,
      `target: p99 < ${TARGET_P99_MS} ms during the burst → ${pass ? 'PASS' : 'FAIL'}`,
    ]
    for (const l of lines) console.log(l)

    if (!args['no-record']) {
      if (!existsSync(resultsFile)) writeFileSync(resultsFile, '# Benchmark results\n\nAppended by the scripts in bench/; newest last.\n')
      appendFileSync(
        resultsFile,
        [
          '',
          `## login-burst — ${new Date().toISOString()}`,
          '',
          `Command: \`npx tsx bench/login-burst.ts --logins ${LOGINS} --users ${USERS} --interval-ms ${INTERVAL_MS}\``,
          `Machine: ${cpu}, ${availableParallelism()} cores, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, ${platform()} ${release()}, Node ${process.version}; load average at start ${load}`,
          `Server: one process, default config (BCRYPT_COST 10, HASH_WORKERS = cores) but rate limits lifted, SQLite in a temp dir`,
          '',
          '```',
          ...lines,
          '```',
          '',
        ].join('\n'),
      )
      console.log(`appended to ${resultsFile}`)
    }
    process.exitCode = pass ? 0 : 1
  } finally {
    child.kill('SIGTERM')
    await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)))
    rmSync(dir, { recursive: true, force: true })
  }
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
