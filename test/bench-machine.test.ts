import { readFileSync } from 'node:fs'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { callInterrupts } from '../bench/machine.js'

const interrupts = (() => {
  try {
    return readFileSync('/proc/interrupts', 'utf8')
  } catch {
    return ''
  }
})()
const hasCalRow = /^\s*CAL:/m.test(interrupts)

test("bench machine › should read CPU 0's function-call interrupts from /proc/interrupts, growing only", () => {
  const first = callInterrupts(0)
  if (!hasCalRow) {
    assert.is(first, null, 'no CAL row: no count')
    return
  }
  const row = interrupts.split('\n').find((l) => l.trimStart().startsWith('CAL:'))!
  const before = Number(row.trim().split(/\s+/)[1])
  assert.type(first, 'number')
  assert.ok(first! >= before, `${first} must not be below the ${before} read just before`)
  assert.ok(callInterrupts(0)! >= first!)
})

test('bench machine › should answer null for a CPU the machine does not have', () => {
  assert.is(callInterrupts(4096), null)
})

test.run()
