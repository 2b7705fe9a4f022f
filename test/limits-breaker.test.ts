import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createBreaker } from '../src/limits/breaker.js'

const unit = suite('limits › breaker')

unit('limits › should stop trying the dependency after one failure, let one probe through after the cool-down, close on its success', () => {
  let t = 1_000
  const changes: boolean[] = []
  const breaker = createBreaker({ coolDownMs: 500, now: () => t, onChange: (open) => changes.push(open) })
  assert.ok(breaker.tryDependency(), 'closed: try it')
  breaker.failed(new Error('timeout'))
  assert.ok(breaker.open)
  assert.not.ok(breaker.tryDependency(), 'open: take the fallback at once')
  t += 499
  assert.not.ok(breaker.tryDependency(), 'still cooling down')
  t += 1
  assert.ok(breaker.tryDependency(), 'the probe')
  assert.not.ok(breaker.tryDependency(), 'only one probe at a time')
  breaker.failed(new Error('timeout again'))
  assert.not.ok(breaker.tryDependency(), 'a failed probe opens it for another cool-down')
  t += 500
  assert.ok(breaker.tryDependency())
  breaker.succeeded()
  assert.not.ok(breaker.open)
  assert.ok(breaker.tryDependency())
  assert.equal(changes, [true, false], 'one change each way, not one per failure')
})

unit('limits › should not close on the success of a call that started before it opened', () => {
  const breaker = createBreaker({ coolDownMs: 10_000 })
  assert.ok(breaker.tryDependency())
  breaker.failed(new Error('timeout'))
  breaker.succeeded()
  assert.ok(breaker.open)
})

unit.run()
