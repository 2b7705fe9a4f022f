import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { LiveConnection } from '../src/gateway/connection.js'
import { Liveness, MAX_MISSED_PINGS } from '../src/gateway/liveness.js'

/** Sockets that note at which step they were pinged or terminated. */
function fleet() {
  const pingedAt = new Map<string, number[]>()
  const terminated: string[] = []
  let step = 0
  const make = (id: string) =>
    ({
      id,
      missedPings: 0,
      heartbeatBucket: -1,
      ws: { ping: () => pingedAt.set(id, [...(pingedAt.get(id) ?? []), step]) },
      terminate: () => void terminated.push(id),
    }) as unknown as LiveConnection
  return { pingedAt, terminated, make, setStep: (n: number) => (step = n) }
}

test('liveness › should ping every socket exactly once per period, a thirtieth per step, at a fixed phase', () => {
  const f = fleet()
  const liveness = new Liveness({ heartbeatMs: 30_000, slices: 30 })
  const conns = Array.from({ length: 300 }, (_, i) => f.make(`c${i}`))
  for (const c of conns) liveness.track(c)
  let largestStep = 0
  for (let step = 0; step < 90; step++) {
    f.setStep(step)
    for (const c of conns) c.missedPings = 0 // every pong arrives between turns
    const before = [...f.pingedAt.values()].reduce((a, b) => a + b.length, 0)
    liveness.step()
    largestStep = Math.max(largestStep, [...f.pingedAt.values()].reduce((a, b) => a + b.length, 0) - before)
  }
  assert.is(f.pingedAt.size, 300)
  for (const [id, steps] of f.pingedAt) {
    assert.is(steps.length, 3, `${id} pinged once per period`)
    assert.equal([steps[1]! - steps[0]!, steps[2]! - steps[1]!], [30, 30], `${id} pinged exactly one period apart`)
  }
  assert.is(largestStep, 10, 'a thirtieth of the sockets per step')
})

test('liveness › should keep the period between pings when other sockets close, and stop pinging a closed one', () => {
  const f = fleet()
  const liveness = new Liveness({ heartbeatMs: 30_000, slices: 30 })
  const conns = Array.from({ length: 60 }, (_, i) => f.make(`c${i}`))
  for (const c of conns) liveness.track(c)
  for (let step = 0; step < 30; step++) {
    f.setStep(step)
    liveness.step()
  }
  // Half of them close: nobody left moves to an earlier turn.
  for (const c of conns.slice(0, 30)) liveness.untrack(c)
  for (let step = 30; step < 60; step++) {
    f.setStep(step)
    for (const c of conns) c.missedPings = 0
    liveness.step()
  }
  for (const c of conns.slice(0, 30)) assert.is(f.pingedAt.get(c.id)!.length, 1, `${c.id} not pinged after it closed`)
  for (const c of conns.slice(30)) {
    const [a, b] = f.pingedAt.get(c.id)!
    assert.is(b! - a!, 30, `${c.id} still one period apart`)
  }
})

test('liveness › should terminate a silent socket at its third turn (2 to 3 periods after its last pong), never one that answers', () => {
  const f = fleet()
  const liveness = new Liveness({ heartbeatMs: 30_000, slices: 30 })
  const silent = f.make('silent')
  const answering = f.make('answering')
  liveness.track(silent)
  liveness.track(answering)
  for (let step = 0; step < 3 * 30; step++) {
    f.setStep(step)
    answering.missedPings = 0 // its pong arrives between turns
    liveness.step()
    if (f.terminated.length > 0) {
      assert.equal(f.terminated, ['silent'])
      assert.is(f.pingedAt.get('silent')!.length, MAX_MISSED_PINGS, 'two pings went unanswered first')
      assert.is(step - f.pingedAt.get('silent')![0]!, 2 * 30, 'two whole periods after the first unanswered ping')
      return
    }
  }
  assert.unreachable('the silent socket was never terminated')
})

test.run()
