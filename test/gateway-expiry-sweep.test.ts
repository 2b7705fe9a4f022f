import pino from 'pino'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ExpirySweep } from '../src/gateway/expiry-sweep.js'
import type { Registry } from '../src/gateway/registry.js'
import type { Store } from '../src/store/types.js'

// A pass walks the live connections only once the earliest cached expiry may have passed. These
// cases drive one sweep over a registry that counts its walks and a store whose answers they set;
// test/gateway-revocation.test.ts closes a real socket with 4502 through the running sweep.

interface Conn {
  id: string
  sessionId: string
  expiresAt: number
  closedWith: string | null
  revoke(name: string): void
}

function setup() {
  let now = 1_000_000
  const conns: Conn[] = []
  let walks = 0
  const sessions = new Map<string, { expiresAt: number; revokedAt: number | null } | 'fail'>()
  const registry = {
    *values() {
      walks++
      yield* conns.filter((c) => c.closedWith === null)
    },
    ofSession: (id: string) => conns.filter((c) => c.sessionId === id && c.closedWith === null),
  } as unknown as Registry
  const store = {
    async findSessionById(id: string) {
      const s = sessions.get(id)
      if (s === 'fail') throw new Error('store down')
      return s ?? null
    },
  } as unknown as Store
  const sweep = new ExpirySweep({ store, registry, log: pino({ level: 'silent' }), now: () => now })
  const open = (id: string, sessionId: string, expiresAt: number) => {
    const c: Conn = { id, sessionId, expiresAt, closedWith: null, revoke: (name) => (c.closedWith = name) }
    conns.push(c)
    sweep.track(c)
    return c
  }
  return { sweep, open, sessions, walks: () => walks, advance: (ms: number) => (now += ms), now: () => now }
}

test('expiry sweep › passes before the earliest expiry should not walk the connections', async () => {
  const t = setup()
  t.open('c1', 's1', t.now() + 60_000)
  t.open('c2', 's2', t.now() + 10_000)
  for (let i = 0; i < 9; i++) {
    t.advance(1_000)
    await t.sweep.sweep()
  }
  assert.is(t.walks(), 0, 'nothing could be due yet')
  t.advance(1_000)
  t.sessions.set('s2', { expiresAt: t.now() - 1, revokedAt: null })
  await t.sweep.sweep()
  assert.is(t.walks(), 1)
})

test('expiry sweep › an expired session should close 4502 and a revoked one 4501; the rest are not read', async () => {
  const t = setup()
  const expired = t.open('c1', 's1', t.now() + 1_000)
  const revoked = t.open('c2', 's2', t.now() + 1_000)
  const later = t.open('c3', 's3', t.now() + 60_000)
  t.sessions.set('s1', { expiresAt: t.now() + 1_000, revokedAt: null })
  t.sessions.set('s2', { expiresAt: t.now() + 1_000, revokedAt: t.now() })
  t.advance(1_000)
  await t.sweep.sweep()
  assert.is(expired.closedWith, 'SESSION_EXPIRED')
  assert.is(revoked.closedWith, 'SESSION_REVOKED')
  assert.is(later.closedWith, null)
  // The next due connection is c3's, a minute away: no walk until then.
  const walks = t.walks()
  t.advance(58_000)
  await t.sweep.sweep()
  assert.is(t.walks(), walks)
})

test('expiry sweep › a slid session should be due again at its new expiry, not before', async () => {
  const t = setup()
  const c = t.open('c1', 's1', t.now() + 1_000)
  t.advance(1_000)
  t.sessions.set('s1', { expiresAt: t.now() + 30_000, revokedAt: null })
  await t.sweep.sweep()
  assert.is(c.closedWith, null)
  assert.is(c.expiresAt, t.now() + 30_000, 'the cached expiry follows the store')
  const walks = t.walks()
  t.advance(29_000)
  await t.sweep.sweep()
  assert.is(t.walks(), walks, 'not due before the slid expiry')
  t.advance(1_000)
  await t.sweep.sweep()
  assert.is(c.closedWith, 'SESSION_EXPIRED')
})

test('expiry sweep › a failed read should leave the connection due for the next pass', async () => {
  const t = setup()
  const c = t.open('c1', 's1', t.now() + 1_000)
  t.open('c2', 's2', t.now() + 60_000)
  t.sessions.set('s1', 'fail')
  t.advance(1_000)
  await t.sweep.sweep()
  assert.is(c.closedWith, null)
  t.sessions.set('s1', { expiresAt: t.now() - 1, revokedAt: null })
  t.advance(1_000)
  await t.sweep.sweep()
  assert.is(c.closedWith, 'SESSION_EXPIRED')
})

test.run()
