#!/usr/bin/env node
// Runs each uvu test file in its own process (isolation, a time limit per file), prints each
// file's result, and ends with one plain line `N passed, N failed` summed from uvu's counts.
// `--services` runs test/services/ (needs PostgreSQL and Redis); a name filter may follow.
import { spawn } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'

const args = process.argv.slice(2)
const services = args.includes('--services')
const filter = args.find((a) => !a.startsWith('--'))
const dir = services ? 'test/services' : 'test'
const FILE_TIMEOUT_MS = Number(process.env.TEST_FILE_TIMEOUT_MS ?? 180_000)

const files = (existsSync(dir) ? readdirSync(dir) : [])
  .filter((f) => f.endsWith('.test.ts') && (!filter || f.includes(filter)))
  .sort()
  .map((f) => join(dir, f))

function runFile(file) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', file], { stdio: ['ignore', 'pipe', 'pipe'], env: process.env })
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
      const clean = out.replace(/\x1b\[[0-9;]*m/g, '')
      const total = Number(/Total:\s+(\d+)/.exec(clean)?.[1] ?? 0)
      const passed = Number(/Passed:\s+(\d+)/.exec(clean)?.[1] ?? 0)
      const skipped = Number(/Skipped:\s+(\d+)/.exec(clean)?.[1] ?? 0)
      let failed = total - passed - skipped
      // A file that crashed, timed out or exited non-zero without a failing count still fails once.
      if (code !== 0 && failed === 0) failed = 1
      if (total === 0 && failed === 0) failed = 1
      resolve({ file, passed, failed, skipped })
    })
  })
}

let passed = 0
let failed = 0
let skipped = 0
const failedFiles = []
for (const file of files) {
  process.stdout.write(`\n── ${file}\n`)
  const r = await runFile(file)
  passed += r.passed
  failed += r.failed
  skipped += r.skipped
  if (r.failed > 0) failedFiles.push(file)
}
if (files.length === 0) process.stdout.write(`no test files in ${dir}${filter ? ` matching ${filter}` : ''}\n`)
if (failedFiles.length > 0) process.stdout.write(`\nfailing files: ${failedFiles.join(', ')}\n`)
process.stdout.write(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`)
process.exit(failed > 0 ? 1 : 0)
