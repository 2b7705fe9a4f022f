import { PassThrough } from 'node:stream'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { causeOf, retryAfterMsOf, retryDelay } from '../bench/client/storm.js'
import { SOURCE_ADDRESSES, splitEvenly } from '../bench/fleet.js'
import { errorLines } from '../bench/processes.js'
import { holdRuns, holdSizes } from '../bench/scenarios/hold.js'
import { fitLine } from '../bench/stats.js'

const jitter = { kind: 'jitter', baseMs: 500, capMs: 30_000, resetAfterMs: 60_000 } as const

test('bench storm › full jitter should draw from 0 up to base × 2^attempt, capped', () => {
  assert.is(
    retryDelay(jitter, 0, () => 0.999999),
    500 * 0.999999,
  )
  assert.is(
    retryDelay(jitter, 3, () => 0.5),
    2_000,
  )
  assert.is(
    retryDelay(jitter, 20, () => 1),
    30_000,
  )
  assert.is(
    retryDelay(jitter, 5, () => 0),
    0,
  )
  assert.is(retryDelay({ kind: 'fixed', delayMs: 1000 }, 7), 1000)
})

test('bench storm › a failed dial should be counted by its cause', () => {
  assert.is(causeOf('upgrade refused: HTTP/1.1 503 Service Unavailable | ...'), '503')
  assert.is(causeOf('connect ECONNREFUSED 127.0.0.1:4000'), 'ECONNREFUSED')
  assert.is(causeOf('closed with 1001 before the welcome'), 'close 1001')
  assert.is(causeOf('no welcome within 15000 ms'), 'timeout')
  assert.is(causeOf('something else'), 'other')
})

test('bench storm › a refusal’s Retry-After should be read from the dial error’s copy of the answer', () => {
  const refused = 'upgrade refused: HTTP/1.1 503 Service Unavailable | Retry-After: 2 | Content-Type: application/json | | {"error":true}'
  assert.is(retryAfterMsOf(refused), 2000)
  assert.is(retryAfterMsOf('upgrade refused: HTTP/1.1 503 Service Unavailable | Content-Type: application/json | | {}'), undefined)
})

test('bench fleet › credentials should be split into contiguous near-equal parts, addresses spread', () => {
  const parts = splitEvenly([1, 2, 3, 4, 5, 6, 7], 3)
  assert.equal(parts, [
    [1, 2],
    [3, 4],
    [5, 6, 7],
  ])
  assert.is(SOURCE_ADDRESSES.length, 8)
  assert.is(SOURCE_ADDRESSES[0], '127.0.0.2')
  assert.is(SOURCE_ADDRESSES[7], '127.0.0.9')
})

test('bench held › -1 should mean the most the open-files limit allows', () => {
  assert.equal(holdSizes([2_000, 8_000, -1], 20_000), [2_000, 8_000, 19_000])
})

test('bench held › the largest size should be held largestReps times, its repetitions last', () => {
  assert.equal(holdRuns([2_000, 8_000, 19_000], 3), [2_000, 8_000, 19_000, 19_000, 19_000])
  assert.equal(holdRuns([500, 2_000, 4_000], 1), [500, 2_000, 4_000])
  assert.equal(holdRuns([50, 100], 0), [50, 100])
})

test('bench stats › a least-squares line through exact points should be that line', () => {
  const fit = fitLine([
    { x: 2_000, y: 2_000 * 3 + 100 },
    { x: 8_000, y: 8_000 * 3 + 100 },
    { x: 19_000, y: 19_000 * 3 + 100 },
  ])
  assert.ok(Math.abs(fit.slope - 3) < 1e-9)
  assert.ok(Math.abs(fit.intercept - 100) < 1e-6)
})

test('bench servers › error lines should be pino level ≥ 50 on stdout and anything but warnings on stderr', () => {
  const out = new PassThrough()
  const err = new PassThrough()
  const found = errorLines(out, err)
  out.write('{"level":40,"msg":"slow"}\n{"level":30,"msg":"ok"}\n{"level":50,"msg":"could not wri')
  out.write('te rows"}\n')
  err.write('(node:123) ExperimentalWarning: something\n')
  err.write('Error: boom\n')
  assert.equal(found(), ['{"level":50,"msg":"could not write rows"}', 'Error: boom'])
})

test.run()
