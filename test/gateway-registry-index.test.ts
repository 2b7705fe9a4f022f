import pino from 'pino'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { WebSocket } from 'ws'
import { LiveConnection, type ConnectionHooks } from '../src/gateway/connection.js'
import { Registry } from '../src/gateway/registry.js'
import { ConnectionRowWriter } from '../src/gateway/row-writer.js'
import { openSqliteStore } from '../src/store/sqlite.js'

// The registry keeps no index by connection id: its size is a count and every connection is
// reached through the session index (a session's single socket directly, several through a Set).
// These cases drive it directly, with a session holding two sockets at once (under `replace` the
// old one is registered until its close lands), and check that nothing is counted or listed twice.

const hooks = { limits: { maxBufferedBytes: 1, messagesPer10s: 1 }, message() {}, error() {}, ended() {} } as ConnectionHooks
const connection = (id: string, sessionId: string, userId: string) =>
  new LiveConnection({} as WebSocket, { id, sessionId, userId, ip: '10.0.0.1', userAgent: '', connectedAt: 0, expiresAt: 0 }, hooks)

async function registry() {
  const store = openSqliteStore(':memory:')
  const rows = new ConnectionRowWriter({ store, log: pino({ level: 'silent' }) })
  // Rows stay queued: these cases are about the in-memory indexes, not the table.
  await rows.stop()
  return { registry: new Registry('node-a', rows), rows, close: () => store.close() }
}

const ids = (it: Iterable<{ id: string }>) => [...it].map((c) => c.id).sort()

test('registry › size and values() should count and list each connection once, two of one session included', async () => {
  const { registry: r, close } = await registry()
  const a1 = connection('c1', 's-a', 'u-1')
  const a2 = connection('c2', 's-a', 'u-1')
  const b = connection('c3', 's-b', 'u-2')
  for (const c of [a1, a2, b]) r.add(c)
  assert.is(r.size, 3)
  assert.equal(ids(r.values()), ['c1', 'c2', 'c3'])
  assert.is(r.countForSession('s-a'), 2)

  assert.ok(r.remove(a1))
  assert.is(r.size, 2)
  assert.equal(ids(r.values()), ['c2', 'c3'])
  assert.equal(ids(r.ofSession('s-a')), ['c2'])
  assert.ok(r.remove(b))
  assert.ok(r.remove(a2))
  assert.is(r.size, 0)
  assert.equal([...r.values()], [])
  await close()
})

test('registry › a connection added twice or removed twice should change nothing the second time', async () => {
  const { registry: r, rows, close } = await registry()
  const a = connection('c1', 's-a', 'u-1')
  const b = connection('c2', 's-a', 'u-1')
  r.add(a)
  r.add(a)
  assert.is(r.size, 1)
  assert.is(r.countForUser('u-1'), 1)
  assert.is(r.countForIp('10.0.0.1'), 1)
  assert.is(rows.pending, 1, 'one row queued')
  r.add(b)
  r.add(b)
  assert.is(r.size, 2)
  assert.is(r.countForIp('10.0.0.1'), 2)

  assert.ok(r.remove(a))
  assert.not.ok(r.remove(a), 'the second remove finds nothing')
  assert.is(r.size, 1)
  assert.is(r.countForUser('u-1'), 1)
  assert.is(r.countForIp('10.0.0.1'), 1)
  // A stranger with a registered connection's session is not that connection.
  assert.not.ok(r.remove(connection('c9', 's-a', 'u-1')))
  assert.is(r.size, 1)
  await close()
})

test.run()
