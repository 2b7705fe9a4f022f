import { spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { test } from 'uvu'
import * as assert from 'uvu/assert'

const RUN_TIMEOUT_MS = 120_000
const results = 'bench/RESULTS.md'

/** Runs `tsx bench/run.ts args…` as a child process; resolves with its exit code and output. */
function runBench(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/run.ts', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (out += d))
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`bench did not finish within ${RUN_TIMEOUT_MS} ms:\n${out}`))
    }, RUN_TIMEOUT_MS)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, out })
    })
  })
}

test('bench runner › a tiny run should measure chatgate in every scenario and touch no results file', async () => {
  const before = existsSync(results) ? readFileSync(results, 'utf8') : null
  const { code, out } = await runBench(['--tiny'])
  assert.is(code, 0, out)
  for (const id of ['1', '2', '3', '4', '5']) assert.ok(out.includes(`\n[${id}] `), `scenario ${id} did not run:\n${out}`)
  const rows = out.split('\n').filter((l) => /^\| [1-5] /.test(l))
  assert.ok(rows.length >= 18, `expected the whole table, got ${rows.length} rows:\n${out}`)
  // The chatgate column of every row holds a figure: no refusal, failure or skip anywhere.
  const unmeasured = rows.filter((l) => l.split(' | ')[2]!.startsWith('n/a'))
  assert.equal(unmeasured, [], out)
  assert.not.ok(/failed|refused|skipped/.test(out), out)
  assert.is(existsSync(results) ? readFileSync(results, 'utf8') : null, before)
})

test.run()
