import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { CONNECTION_ID_LENGTH, createConnectionId } from '../src/auth/tokens.js'

// Connection ids are 96 random bits in 16 base64url characters (decision 0359): no order, no count
// of earlier ids, no repeats. The welcome frame's id is checked in test/gateway-handshake.test.ts.

test('connection ids › should be 16 base64url characters carrying 96 random bits', () => {
  assert.is(CONNECTION_ID_LENGTH * 6, 96)
  for (let i = 0; i < 100; i++) assert.match(createConnectionId(), /^[A-Za-z0-9_-]{16}$/)
})

test('connection ids › 100,000 in a row should all differ and use every character position freely', () => {
  const ids = Array.from({ length: 100_000 }, createConnectionId)
  assert.is(new Set(ids).size, ids.length)
  // A counter or a timestamp would leave leading characters nearly constant; random bits do not.
  for (let pos = 0; pos < 16; pos++) {
    const seen = new Set(ids.map((id) => id[pos]))
    assert.ok(seen.size >= 60, `position ${pos}: ${seen.size} distinct characters`)
  }
  const sorted = [...ids].sort()
  assert.not.equal(sorted.slice(0, 100), ids.slice(0, 100), 'not issued in order')
})

test.run()
