#!/usr/bin/env node
// Runs each uvu test file in its own process (isolation, a time limit per file), prints each
// file's result, and ends with one plain line `N passed, N failed` summed from uvu's counts.
// `--services` runs test/services/ (needs PostgreSQL and Redis) AND then the main suite test/*.test.ts
// again with CHATGATE_TEST_STORE=postgres (each server in its own schema); one combined line at
// the end. A name filter may follow; it applies to both passes.
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { stripVTControlCharacters } from 'node:util'
import pg from 'pg'

const args = process.argv.slice(2)
const services = args.includes('--services')
const filter = args.find((a) => !a.startsWith('--'))
const FILE_TIMEOUT_MS = Number(process.env.TEST_FILE_TIMEOUT_MS ?? 180_000)
const PG_URL = process.env.CHATGATE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
// Every schema this run creates starts with this; whatever a crashed file left behind is dropped at the end.
const SCHEMA_PREFIX = `cgt_r${Date.now().toString(36)}${randomBytes(2).toString('hex')}_`

const filesIn = (dir) =>
  (existsSync(dir) ? readdirSync(dir) : [])
    .filter((f) => f.endsWith('.test.ts') && (!filter || f.includes(filter)))
    .sort()
    .map((f) => join(dir, f))

function runFile(file, env) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', file], { stdio: ['ignore', 'pipe', 'pipe'], env })
    let out = ''
    const onData = (d) => {
      out += d
      process.stdout.write(d)
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    const timer = setTimeout(() => {
      out += `\n${file}: timed out after ${FILE_TIMEOUT_MS} ms\n`
      process.stdout.write(`\n${file}: timed out after ${FILE_TIMEOUT_MS} ms\n`)
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
      resolve({ file, passed, failed, skipped })
    })
  })
}

let passed = 0
let failed = 0
let skipped = 0
const failedFiles = []

async function runPass(title, dir, env) {
  const files = filesIn(dir)
  if (title) process.stdout.write(`\n══ ${title}\n`)
  for (const file of files) {
    process.stdout.write(`\n── ${file}\n`)
    const r = await runFile(file, env)
    passed += r.passed
    failed += r.failed
    skipped += r.skipped
    if (r.failed > 0) failedFiles.push(title ? `${file} (${title})` : file)
  }
  if (files.length === 0) process.stdout.write(`no test files in ${dir}${filter ? ` matching ${filter}` : ''}\n`)
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

if (!services) {
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
if (failedFiles.length > 0) process.stdout.write(`\nfailing files: ${failedFiles.join(', ')}\n`)
process.stdout.write(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`)
process.exit(failed > 0 ? 1 : 0)
