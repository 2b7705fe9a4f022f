import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { meetsTarget, ratioOf, renderTable, type Row } from '../bench/report.js'
import { replaceBlock } from '../bench/results-file.js'
import { percentile, spread } from '../bench/stats.js'

test('bench stats › should take percentiles by nearest rank', () => {
  const xs = Array.from({ length: 100 }, (_, i) => 100 - i) // 100..1, unsorted on purpose
  assert.is(percentile(xs, 50), 50)
  assert.is(percentile(xs, 99), 99)
  assert.is(percentile(xs, 100), 100)
  assert.is(percentile([7], 99), 7)
  assert.ok(Number.isNaN(percentile([], 50)))
})

test('bench stats › should report median and range of repetitions without reordering them', () => {
  const s = spread([30, 10, 20])
  assert.equal(s, { median: 20, min: 10, max: 30, reps: [30, 10, 20] })
  assert.is(spread([1, 2, 3, 10]).median, 2.5)
})

const row = (value: number, ref: number, target: Row['target']): Row => ({
  scenario: 's',
  metric: 'm',
  value: spread([value]),
  reference: { label: 'ref', value: spread([ref]) },
  target,
})

test('bench report › should hold ratio targets and absolute targets to their limits', () => {
  assert.is(ratioOf(row(90, 100, undefined)), 0.9)
  assert.is(meetsTarget(row(90, 100, { on: 'ratio', op: '>=', limit: 0.9 })), true)
  assert.is(meetsTarget(row(89, 100, { on: 'ratio', op: '>=', limit: 0.9 })), false)
  assert.is(meetsTarget(row(126, 100, { on: 'ratio', op: '<=', limit: 1.25 })), false)
  assert.is(meetsTarget(row(19.9, 1, { on: 'value', op: '<', limit: 20 })), true)
  assert.is(meetsTarget(row(20, 1, { on: 'value', op: '<', limit: 20 })), false)
})

test('bench report › a target on every repetition should be judged on the worst one, the others on the median', () => {
  const reps = (values: number[], target: Row['target']): Row => ({ scenario: 's', metric: 'm', value: spread(values), target })
  // Median 20 is within the bound, the slowest repetition (31) is not.
  assert.is(meetsTarget(reps([20, 31, 10], { on: 'value', op: '<=', limit: 30 })), true)
  assert.is(meetsTarget(reps([20, 31, 10], { on: 'value', op: '<=', limit: 30, worst: true })), false)
  assert.is(meetsTarget(reps([20, 30, 10], { on: 'value', op: '<=', limit: 30, worst: true })), true)
  // For a lower bound the worst repetition is the smallest.
  assert.is(meetsTarget(reps([5, 1, 9], { on: 'value', op: '>=', limit: 2, worst: true })), false)
  assert.is(meetsTarget(reps([5, 2, 9], { on: 'value', op: '>=', limit: 2, worst: true })), true)
  assert.ok(renderTable([reps([1, 2, 3], { on: 'value', op: '<=', limit: 0, worst: true })]).includes('≤ 0 (every repetition)'))
})

test('bench report › should not judge a figure that was not measured', () => {
  const missing: Row = {
    scenario: 's',
    metric: 'm',
    value: null,
    reference: { label: 'ref', value: spread([1]) },
    target: { on: 'ratio', op: '>=', limit: 1 },
    note: 'server refused',
  }
  assert.is(ratioOf(missing), null)
  assert.is(meetsTarget(missing), null)
  const table = renderTable([missing])
  assert.ok(table.includes('not measured'))
  assert.not.ok(table.includes('ok |'))
  assert.ok(table.includes('n/a [1]'))
  assert.ok(table.endsWith('[1] server refused'))
})

test('bench report › should mark a missed target and keep one footnote per distinct note', () => {
  const a = { ...row(50, 100, { on: 'ratio', op: '>=', limit: 0.9 } as const), note: 'noisy' }
  const b = { ...row(95, 100, { on: 'ratio', op: '>=', limit: 0.9 } as const), note: 'noisy' }
  const table = renderTable([a, b])
  assert.ok(table.includes('0.50× | ≥ 0.9× | **MISS**'))
  assert.ok(table.includes('0.95× | ≥ 0.9× | ok'))
  assert.is(table.match(/\[1\] noisy/g)?.length, 1)
  assert.not.ok(table.includes('[2]'))
})

test('bench results file › should replace only the named block and keep the notes around it', () => {
  const md =
    'notes before\n\n<!-- bench:quick:begin -->\nold quick\n<!-- bench:quick:end -->\n\nnotes between\n\n<!-- bench:full:begin -->\nold full\n<!-- bench:full:end -->\nafter\n'
  const out = replaceBlock(md, 'quick', 'new quick')
  assert.ok(out.includes('<!-- bench:quick:begin -->\nnew quick\n<!-- bench:quick:end -->'))
  assert.not.ok(out.includes('old quick'))
  assert.ok(out.includes('old full'))
  assert.ok(out.startsWith('notes before') && out.includes('notes between') && out.endsWith('after\n'))
})

test('bench results file › should append a block that is not there yet', () => {
  const out = replaceBlock('# Results\n', 'full', 'table')
  assert.is(out, '# Results\n\n<!-- bench:full:begin -->\ntable\n<!-- bench:full:end -->\n')
})

test.run()
