import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { LiveConnection } from '../src/gateway/connection.js'
import { Liveness, MAX_MISSED_PINGS } from '../src/gateway/liveness.js'
import type { Registry } from '../src/gateway/registry.js'

/** Sockets that count their pings and terminations, in a Map as the registry keeps them. */
function fleet(n: number) {
  const byId = new Map<string, LiveConnection>()
  const pings = new Map<string, number>()
  const terminated: string[] = []
  const add = (id: string) => {
    const conn = {
      id,
      missedPings: 0,
      ws: { ping: () => pings.set(id, (pings.get(id) ?? 0) + 1) },
      terminate: () => {
        terminated.push(id)
        byId.delete(id)
      },
    } as unknown as LiveConnection
    byId.set(id, conn)
    return conn
  }
  for (let i = 0; i < n; i++) add(`c${i}`)
  const registry = {
    values: () => byId.values(),
    get size() {
      return byId.size
    },
  } as unknown as Registry
  return { byId, pings, terminated, add, registry }
}

test('liveness › should ping every socket exactly once per period, a slice per step, never all in one step', () => {
  const f = fleet(300)
  const liveness = new Liveness({ registry: f.registry, heartbeatMs: 30_000, slices: 30 })
  let largestStep = 0
  for (let step = 0; step < 30; step++) {
    const before = [...f.pings.values()].reduce((a, b) => a + b, 0)
    liveness.step()
    largestStep = Math.max(largestStep, [...f.pings.values()].reduce((a, b) => a + b, 0) - before)
  }
  assert.is(f.pings.size, 300)
  assert.ok(
    [...f.pings.values()].every((n) => n === 1),
    'each socket pinged once in the period',
  )
  assert.is(largestStep, 10, 'a thirtieth per step')
})

test('liveness › should reach sockets opened during a pass within that period, and terminate after MAX_MISSED_PINGS unanswered', () => {
  const f = fleet(60)
  const liveness = new Liveness({ registry: f.registry, heartbeatMs: 30_000, slices: 30 })
  for (let step = 0; step < 15; step++) liveness.step()
  f.add('late')
  for (let step = 15; step < 30; step++) liveness.step()
  assert.is(f.pings.get('late'), 1, 'a socket opened mid-pass is pinged in the same pass')
  // A pong resets the count: c0 answers every time, nobody else does.
  for (let period = 1; period <= MAX_MISSED_PINGS; period++) {
    f.byId.get('c0')!.missedPings = 0
    for (let step = 0; step < 30; step++) liveness.step()
  }
  assert.is(f.terminated.length, 60, 'every silent socket was terminated at its third visit')
  assert.not.ok(f.terminated.includes('c0'))
})

test.run()
