import { Writable } from 'node:stream'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { dialWire, wireTarget } from '../bench/client/wire.js'
import { endUnlessFinished, receiverEndsOnce } from '../src/gateway/receiver-end.js'
import { registerUser } from './helpers/http.js'
import { startServer } from './helpers/server.js'
import { waitFor } from './helpers/ws.js'

// ws ends a socket's frame Receiver again after the peer's close frame already ended it; the
// gateway makes those calls return at once instead of building an error nobody reads.

/** A Writable whose original `end` is counted, with `endUnlessFinished` in front of it. */
function counted() {
  const stream = new Writable({ write: (_c, _e, cb) => cb() })
  let originalCalls = 0
  const original = stream.end
  stream.end = endUnlessFinished(function (this: Writable, ...args: unknown[]) {
    originalCalls++
    return (original as (...a: unknown[]) => Writable).apply(this, args)
  } as Writable['end'])
  return { stream, calls: () => originalCalls }
}

test('receiver end › an open stream should end as before', async () => {
  const { stream, calls } = counted()
  const finished = new Promise((r) => stream.once('finish', r))
  assert.is(stream.end(), stream)
  await finished
  assert.is(calls(), 1)
  assert.ok(stream.writableFinished)
})

test('receiver end › a finished stream ended again without a callback should return at once', async () => {
  const { stream, calls } = counted()
  stream.end()
  await new Promise((r) => stream.once('finish', r))
  assert.is(stream.end(), stream)
  assert.is(stream.end(), stream)
  assert.is(calls(), 1, 'the original end ran only the first time')
})

test('receiver end › with a callback, a finished stream should still report ERR_STREAM_ALREADY_FINISHED', async () => {
  const { stream, calls } = counted()
  stream.end()
  await new Promise((r) => stream.once('finish', r))
  const err = await new Promise<Error | null | undefined>((r) => stream.end(r))
  assert.is((err as NodeJS.ErrnoException | undefined)?.code, 'ERR_STREAM_ALREADY_FINISHED')
  assert.is(calls(), 2)
})

test('receiver end › a gateway should install it on the Receiver of its sockets, and client-closed sockets should still close cleanly', async () => {
  const srv = await startServer()
  try {
    assert.ok(receiverEndsOnce(), 'the gateway installs it')
    const n = 20
    const users = await Promise.all(Array.from({ length: n }, (_, i) => registerUser(srv.url, `recv-end-${i}`)))
    const target = wireTarget('ws', `${srv.url.replace('http', 'ws')}/ws`)
    const conns = await Promise.all(users.map((u) => dialWire(target, { token: u.token, username: u.username })))
    await waitFor(() => srv.app.gateway.registry.size === n, 5_000, 'every socket registered')
    const receivers = [...srv.app.gateway.registry.values()].map((c) => (c.ws as unknown as { _receiver: Writable })._receiver)
    for (const r of receivers) assert.is.not(r.end, Writable.prototype.end, "the server socket's Receiver ends through the guard")
    const codes = await Promise.all(conns.map((c) => c.close()))
    await waitFor(() => srv.app.gateway.registry.size === 0, 5_000, 'every socket closed on the server')
    assert.equal(codes, Array(n).fill(1000))
    // The close frame still ended each Receiver (the guard skips only the calls after that).
    for (const r of receivers) assert.ok(r.writableFinished)
  } finally {
    await srv.close()
  }
})

test.run()
