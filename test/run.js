#!/usr/bin/env node
// Runs each uvu test file in its own process (isolation, a time limit per file), several at a time
// (`--jobs N`, default: the number of cores), prints each file's output in one piece when it ends,
// and ends with one plain line `N passed, N failed` summed from uvu's counts.
// `--services` runs test/services/ (needs PostgreSQL and Redis) AND then the main suite test/*.test.ts
// again with CHATGATE_TEST_STORE=postgres (each server in its own schema); one combined line at
// the end. `--browser` runs test/browser/ (headless Chromium, Debian's chromium package), one file
// at a time. A name filter may follow; it applies to every pass.
// A file listed in RUN_ALONE runs with no other file beside it (for timing that other load would skew).
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { basename, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs, stripVTControlCharacters } from 'node:util'
import pg from 'pg'

const { values: options, positionals } = parseArgs({
  options: { services: { type: 'boolean', default: false }, browser: { type: 'boolean', default: false }, jobs: { type: 'string', short: 'j' } },
  allowPositionals: true,
})
const services = options.services
const filter = positionals[0]
const jobs = options.jobs === undefined ? (options.browser ? 1 : availableParallelism()) : Number(options.jobs)
if (!Number.isInteger(jobs) || jobs < 1) {
  process.stderr.write(`--jobs wants a whole number of at least 1, got ${options.jobs}\n`)
  process.exit(2)
}
const FILE_TIMEOUT_MS = Number(process.env.TEST_FILE_TIMEOUT_MS ?? 180_000)
const PG_URL = process.env.CHATGATE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
// Every schema this run creates starts with this; whatever a crashed file left behind is dropped at the end.
const SCHEMA_PREFIX = `cgt_r${Date.now().toString(36)}${randomBytes(2).toString('hex')}_`
/** Runs a TypeScript file through tsx without passing a loader on to worker threads (see the file for the flag). */
const RUN_TS = [fileURLToPath(new URL('./helpers/run-ts.js', import.meta.url))]
/** Files (by name) that run with no other file beside them. */
const RUN_ALONE = new Set([])
/** How long each file took last time (seconds), so the longest start first; kept out of git. */
const DURATIONS = join('node_modules', '.cache', 'chatgate-test-durations.json')
const lastDurations = (() => {
  try {
    return JSON.parse(readFileSync(DURATIONS, 'utf8'))
  } catch {
    return {}
  }
})()

const filesIn = (dir) =>
  (existsSync(dir) ? readdirSync(dir) : [])
    .filter((f) => f.endsWith('.test.ts') && (!filter || f.includes(filter)))
    .sort()
    .map((f) => join(dir, f))

/**
 * Runs one file; resolves with its counts and its whole output. With `live`, the output is also
 * written as it comes (one file at a time); otherwise the caller prints it once the file is done.
 */
function runFile(file, env, live) {
  return new Promise((resolve) => {
    const started = performance.now()
    const child = spawn(process.execPath, [...RUN_TS, file], { stdio: ['ignore', 'pipe', 'pipe'], env })
    let out = ''
    const onData = (d) => {
      out += d
      if (live) process.stdout.write(d)
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    const timer = setTimeout(() => {
      out += `\n${file}: timed out after ${FILE_TIMEOUT_MS} ms\n`
      if (live) process.stdout.write(`\n${file}: timed out after ${FILE_TIMEOUT_MS} ms\n`)
      child.kill('SIGKILL')
    }, FILE_TIMEOUT_MS)
    child.on('close', (code) => {
      clearTimeout(timer)
      const clean = stripVTControlCharacters(out)
      const total = Number(/Total:\s+(\d+)/.exec(clean)?.[1] ?? 0)
      const passed = Number(/Passed:\s+(\d+)/.exec(clean)?.[1] ?? 0)
      const skipped = Number(/Skipped:\s+(\d+)/.exec(clean)?.[1] ?? 0)
      // uvu's Total counts the tests that ran; skipped ones are outside it.
      let failed = total - passed
      // A file that crashed, timed out or exited non-zero without a failing count still fails once.
      if (code !== 0 && failed === 0) failed = 1
      if (total === 0 && skipped === 0 && failed === 0) failed = 1
      resolve({ file, passed, failed, skipped, out, seconds: (performance.now() - started) / 1000 })
    })
  })
}

/**
 * Runs `files`, up to `jobs` at once, in their order; a RUN_ALONE file waits until nothing else
 * runs and nothing starts beside it. Calls `done` with each result as its file ends.
 */
function runFiles(files, env, timingKey, done) {
  const live = jobs === 1
  // Longest first (a file never timed counts as long), so that no long file starts last.
  const last = (file) => lastDurations[timingKey(file)] ?? 60
  const queue = live ? [...files] : [...files].sort((a, b) => last(b) - last(a))
  let running = 0
  let aloneRunning = false
  return new Promise((resolveAll) => {
    const pump = () => {
      while (queue.length > 0 && running < jobs && !aloneRunning) {
        const alone = RUN_ALONE.has(basename(queue[0]))
        if (alone && running > 0) break
        const file = queue.shift()
        running++
        if (alone) aloneRunning = true
        if (live) process.stdout.write(`\n── ${file}\n`)
        void runFile(file, env, live).then((r) => {
          running--
          if (alone) aloneRunning = false
          done(r, live)
          pump()
        })
      }
      if (queue.length === 0 && running === 0) resolveAll()
    }
    pump()
  })
}

let passed = 0
let failed = 0
let skipped = 0
const failedFiles = []
const runStarted = performance.now()

async function runPass(title, dir, env) {
  const files = filesIn(dir)
  if (title) process.stdout.write(`\n══ ${title}\n`)
  const results = new Map()
  const timingKey = (file) => (title ? `${title}: ${file}` : file)
  await runFiles(files, env, timingKey, (r, live) => {
    if (!live) process.stdout.write(`\n── ${r.file} (${r.seconds.toFixed(1)} s)\n${r.out}`)
    results.set(r.file, r)
    lastDurations[timingKey(r.file)] = Math.round(r.seconds * 10) / 10
  })
  // Totals and failing files in file order, whatever order the files ended in.
  for (const file of files) {
    const r = results.get(file)
    passed += r.passed
    failed += r.failed
    skipped += r.skipped
    if (r.failed > 0) failedFiles.push(title ? `${file} (${title})` : file)
  }
  if (files.length === 0) process.stdout.write(`no test files in ${dir}${filter ? ` matching ${filter}` : ''}\n`)
  else
    process.stdout.write(
      `\n${title ? `${title}: ` : ''}${files.length} files, ${jobs} at a time, ${((performance.now() - runStarted) / 1000).toFixed(0)} s since the start\n`,
    )
}

/** Null when PostgreSQL answers, else the reason. */
async function postgresProblem() {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3_000 })
  try {
    await client.connect()
    await client.query('SELECT 1')
    return null
  } catch (e) {
    return e instanceof Error ? e.message : String(e)
  } finally {
    await client.end().catch(() => undefined)
  }
}

/** Drops the schemas of this run that a crashed or killed file could not drop itself. */
async function dropRunSchemas() {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3_000 })
  try {
    await client.connect()
    const { rows } = await client.query('SELECT nspname FROM pg_namespace WHERE starts_with(nspname, $1)', [SCHEMA_PREFIX])
    for (const { nspname } of rows) await client.query(`DROP SCHEMA IF EXISTS "${nspname}" CASCADE`)
    if (rows.length > 0) process.stdout.write(`\ndropped ${rows.length} leftover test schema(s) of this run\n`)
  } catch (e) {
    process.stdout.write(`\ncould not drop the test schemas of this run (${e instanceof Error ? e.message : e})\n`)
  } finally {
    await client.end().catch(() => undefined)
  }
}

if (options.browser) {
  await runPass('browser tests', 'test/browser', process.env)
} else if (!services) {
  await runPass('', 'test', process.env)
} else {
  const env = { ...process.env, CHATGATE_TEST_PG_PREFIX: SCHEMA_PREFIX }
  await runPass('service tests', 'test/services', env)
  const problem = await postgresProblem()
  if (problem) {
    const where = new URL(PG_URL)
    process.stdout.write(
      `\nPostgreSQL is not reachable on ${where.hostname}:${where.port || 5432} (${problem}): start it with ` +
        '`pg_ctlcluster 15 main start` or set CHATGATE_TEST_PG_URL; the main suite on PostgreSQL did not run\n',
    )
    failed += 1
    failedFiles.push('main suite on PostgreSQL (not run)')
  } else {
    await runPass('main suite on PostgreSQL (CHATGATE_TEST_STORE=postgres)', 'test', { ...env, CHATGATE_TEST_STORE: 'postgres' })
    await dropRunSchemas()
  }
}
try {
  mkdirSync(dirname(DURATIONS), { recursive: true })
  writeFileSync(DURATIONS, `${JSON.stringify(lastDurations, null, 1)}\n`)
} catch {
  // Only the order of the next run depends on it.
}
if (failedFiles.length > 0) process.stdout.write(`\nfailing files: ${failedFiles.join(', ')}\n`)
process.stdout.write(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`)
process.exit(failed > 0 ? 1 : 0)
