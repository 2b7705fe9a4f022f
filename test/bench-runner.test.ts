import { spawn } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { test } from 'uvu'
import * as assert from 'uvu/assert'

// A smoke run of the bench's runner, seconds long: the fixture, the load-generator process, one
// chatgate server, one scenario (4, revoke → close) and the table. Every scenario at tiny sizes is
// `npm run bench -- --tiny` (about half a minute): run it when the bench itself changes.
const RUN_TIMEOUT_MS = 60_000
const results = 'bench/RESULTS.md'
const resultsDir = 'bench/results'

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

const listResults = () => (existsSync(resultsDir) ? readdirSync(resultsDir).sort() : [])

test('bench runner › a tiny run of one scenario should measure chatgate and touch no results file', async () => {
  const before = existsSync(results) ? readFileSync(results, 'utf8') : null
  const filesBefore = listResults()
  const { code, out } = await runBench(['--tiny', '--only', '4'])
  assert.is(code, 0, out)
  assert.ok(out.includes('\n[4] '), `scenario 4 did not run:\n${out}`)
  for (const id of ['1', '2', '3', '5']) assert.not.ok(out.includes(`\n[${id}] `), `scenario ${id} ran despite --only 4:\n${out}`)
  const rows = out.split('\n').filter((l) => /^\| [1-5] /.test(l))
  assert.ok(rows.length >= 2, `expected the scenario's rows, got ${rows.length}:\n${out}`)
  // The chatgate column of every row holds a figure: no refusal, failure or skip anywhere.
  const unmeasured = rows.filter((l) => l.split(' | ')[2]!.startsWith('n/a'))
  assert.equal(unmeasured, [], out)
  assert.not.ok(/failed|refused|skipped/.test(out), out)
  assert.is(existsSync(results) ? readFileSync(results, 'utf8') : null, before)
  assert.equal(listResults(), filesBefore, 'a tiny run writes no results file')
})

test.run()
