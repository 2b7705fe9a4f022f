/**
 * `npm run bench` (quick, about 10 minutes on a loaded 2-core machine) or `npm run bench -- --full`
 * (builds dist/ when stale; about 25 minutes): builds the fixtures, starts each server pinned to one
 * core and the load generator on another, runs the seven scenarios, prints one table and writes
 * it into bench/RESULTS.md.
 *
 * Options: --full; --tiny (every scenario in seconds, for the runner's test; figures meaningless);
 * --only 1,3 (scenarios); --client wire|library (load generator, see
 * bench/client/wire.ts); --profile (every server writes V8 CPU profiles to bench/results/profiles/<kind>);
 * --heap (the held-connection scenario writes heap snapshots at its largest size to bench/results/heap; read them
 * with bench/heap-top.ts); --no-write (do not touch RESULTS.md, which --only, --profile and
 * --heap runs never do either).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { build, buildIsFresh } from './build.js'
import { buildFixture } from './fixtures.js'
import { choosePlacement, describeMachine } from './machine.js'
import { startClient, useChatgateBuild } from './processes.js'
import { full, quick, tiny } from './profiles.js'
import { renderTable, type Row } from './report.js'
import { writeBlock } from './results-file.js'
import type { RunContext, Scenario } from './scenarios/context.js'
import { handshakeScenario } from './scenarios/handshake.js'
import { loginScenario } from './scenarios/login.js'
import { adminListingScenario } from './scenarios/admin-listing.js'
import { FD_HEADROOM, holdScenario, holdSizes } from './scenarios/hold.js'
import { revokeScenario } from './scenarios/revoke.js'
import { rowsScenario } from './scenarios/rows.js'
import { stormScenario } from './scenarios/storm.js'

const here = dirname(fileURLToPath(import.meta.url))
const { values } = parseArgs({
  options: {
    full: { type: 'boolean', default: false },
    tiny: { type: 'boolean', default: false },
    only: { type: 'string' },
    client: { type: 'string', default: 'wire' },
    profile: { type: 'boolean', default: false },
    heap: { type: 'boolean', default: false },
    'no-write': { type: 'boolean', default: false },
  },
})
if (values.client !== 'wire' && values.client !== 'library') throw new Error('--client is wire or library')
const profile = values.full ? full : values.tiny ? tiny : quick
const only = values.only ? new Set(values.only.split(',').map((s) => s.trim())) : null
const command = ['npm run bench', ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : [])].join(' ')
const log = (line: string) => process.stdout.write(`${line}\n`)

const scenarios: { id: string; title: string; run: Scenario }[] = [
  { id: '1', title: 'handshake throughput and latency: chatgate vs bare ws vs Socket.IO', run: handshakeScenario },
  { id: '2', title: 'held connections: memory, idle CPU and /healthz per size, chatgate vs bare ws (and the same-work server)', run: holdScenario },
  { id: '3', title: 'login throughput and /healthz p99 during the login burst', run: loginScenario },
  { id: '4', title: 'revoke → close-frame latency', run: revokeScenario },
  { id: '5', title: `handshake latency at ${profile.rows.sizes.map((n) => n.toLocaleString('en-US')).join(' / ')} session rows`, run: rowsScenario },
  { id: '6', title: `reconnect storm: ${profile.storm.clients.toLocaleString('en-US')} clients, the node restarted`, run: stormScenario },
  { id: '7', title: `admin device listing over ${profile.admin.connectionRows.toLocaleString('en-US')} connection rows`, run: adminListingScenario },
]

const machine = describeMachine()
const placement = choosePlacement()
const startedAt = new Date()
log(`chatgate bench (${profile.name}) — ${machine.nproc} × ${machine.cpuModel}, node ${machine.node}, load ${machine.loadAvg1.toFixed(2)}`)
if (placement.warning) log(`WARNING: ${placement.warning}`)
else log(`server on CPU ${placement.serverCpu}, load generator on CPU ${placement.clientCpu} (taskset)`)

// chatgate starts from the compiled build when it is up to date; --full builds it first.
const root = join(here, '..')
if (values.full && !buildIsFresh(root)) {
  log('dist/ is older than src/: npm run build')
  build(root)
}
const fromBuild = buildIsFresh(root)
useChatgateBuild(fromBuild)
log(fromBuild ? 'chatgate: node dist/main.js (the compiled build)' : 'chatgate: node --import tsx src/main.ts (dist/ is missing or older than src/)')

const skipped = new Map<string, string>()
const heldMax = Math.max(...holdSizes(profile.hold.sizes, machine.fdLimit))
const fdNeeded = Math.max(heldMax, profile.storm.clients) + FD_HEADROOM
if (machine.fdLimit < fdNeeded) {
  for (const id of ['2', '6']) skipped.set(id, `open-files limit ${machine.fdLimit} < ${fdNeeded}: run \`ulimit -n ${fdNeeded}\` in this shell first`)
  log(`WARNING: ${skipped.get('2')}; scenarios 2 and 6 are skipped`)
}

const workDir = mkdtempSync(join(tmpdir(), 'chatgate-bench-'))
const resultsDir = join(here, 'results')
mkdirSync(resultsDir, { recursive: true })
const cpuProfDir = values.profile ? join(resultsDir, 'profiles') : undefined
if (cpuProfDir) mkdirSync(cpuProfDir, { recursive: true })
const heapDir = values.heap ? join(resultsDir, 'heap') : undefined
if (heapDir) mkdirSync(heapDir, { recursive: true })

const rows: Row[] = []
const client = await startClient(placement.clientCpu)
try {
  const tokenUsers = Math.max(heldMax, profile.storm.clients, profile.handshake.tokenPool, profile.revoke.warmup + profile.reps * profile.revoke.samples)
  let t = performance.now()
  const fixture = buildFixture(join(workDir, 'main.db'), {
    tokenUsers,
    fillerSessions: 0,
    loginAccounts: profile.login.accounts,
    bcryptCost: profile.bcryptCost,
  })
  log(`fixture: ${tokenUsers} users with one session each, ${profile.login.accounts} login accounts (${((performance.now() - t) / 1000).toFixed(1)} s)`)
  const ctx: RunContext = { profile, placement, client, clientKind: values.client, workDir, fixture, cpuProfDir, heapDir, fdLimit: machine.fdLimit, log }
  for (const s of scenarios) {
    if (only && !only.has(s.id)) continue
    log(`\n[${s.id}] ${s.title}`)
    const skip = skipped.get(s.id)
    if (skip) {
      rows.push({ scenario: s.id, metric: s.title, value: null, note: `skipped: ${skip}` })
      continue
    }
    t = performance.now()
    try {
      rows.push(...(await s.run(ctx)))
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e)
      log(`  failed: ${msg}`)
      rows.push({ scenario: s.id, metric: s.title, value: null, note: `failed: ${msg.split('\n')[0]}` })
    }
    log(`  (${((performance.now() - t) / 1000).toFixed(0)} s)`)
  }
} finally {
  await client.stop()
  rmSync(workDir, { recursive: true, force: true })
}

const elapsed = (Date.now() - startedAt.getTime()) / 1000
const endLoad = describeMachine().loadAvg1
const table = renderTable(rows)
const summary = [
  `**${profile.name} run**, ${startedAt.toISOString().replace('T', ' ').slice(0, 16)} UTC, ${elapsed.toFixed(0)} s — \`${command}\``,
  '',
  `- machine: ${machine.nproc} × ${machine.cpuModel}, ${machine.os}, node ${machine.node}, open-files limit ${machine.fdLimit}`,
  `- chatgate started as ${fromBuild ? '`node dist/main.js` (compiled build, up to date with src/)' : '`node --import tsx src/main.ts` (dist/ was missing or stale)'}`,
  `- placement: ${placement.warning ?? `server pinned to CPU ${placement.serverCpu}, load generator to CPU ${placement.clientCpu} (taskset)`}; load generator: ${values.client === 'wire' ? 'bench/client/wire.ts' : 'ws / socket.io-client'}`,
  `- load average (1 min) at start ${machine.loadAvg1.toFixed(2)}, at end ${endLoad.toFixed(2)}${Math.max(machine.loadAvg1, endLoad) > 0.5 ? ' — the machine was not quiet; absolute figures are low and noisy, ratios less so' : ''}`,
  `- ${profile.reps} repetitions${profile.handshake.reps === profile.reps ? '' : ` (scenario 1: ${profile.handshake.reps})`}, the largest held size ${profile.hold.largestReps === 1 ? 'once' : `${profile.hold.largestReps} times`} per server in scenario 2, ${profile.storm.reps} storm${profile.storm.reps === 1 ? '' : 's'} per retry rule in scenario 6; each figure is the median (min–max), a target marked "every repetition" holds in each; ratio = chatgate ÷ reference (medians)`,
  ...(cpuProfDir ? ["- **the servers ran under --cpu-prof: their figures carry the profiler's overhead; do not compare them**"] : []),
  ...(heapDir ? ['- **--heap: the first memory repetition of each server includes writing heap snapshots (RSS inflated)**'] : []),
  '',
  table,
].join('\n')
log(`\n${summary}\n`)
const stamp = startedAt.toISOString().replace(/[:.]/g, '-')
const json = join(resultsDir, `${stamp}-${profile.name}.json`)
if (profile.name === 'tiny') {
  log('tiny run: nothing written')
} else if (values['no-write'] || only || cpuProfDir || heapDir) {
  writeFileSync(json, JSON.stringify({ command, machine, placement, startedAt, rows }, null, 2))
  log(`written to ${relative(process.cwd(), json)} (RESULTS.md untouched)`)
} else {
  writeFileSync(json, JSON.stringify({ command, machine, placement, startedAt, rows }, null, 2))
  writeBlock(join(here, 'RESULTS.md'), profile.name, summary)
  log(`written to bench/RESULTS.md (${profile.name} block) and ${relative(process.cwd(), json)}`)
}
