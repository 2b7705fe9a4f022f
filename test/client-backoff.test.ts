import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { fullJitterDelay } from '../src/client/backoff.js'
import { ChatgateClient } from '../src/client/client.js'
import type { Connection } from '../src/client/connection.js'
import type { SocketLike, Timers } from '../src/client/socket.js'
import { welcomeFrame } from '../src/gateway/frames.js'

/**
 * The backoff's defaults (0.5 s base, 30 s cap, reset after 60 s open) and the `online` shortcut,
 * on timers the test drives: the delays the SDK asks for are read, not waited for.
 */
function fakeTimers() {
  let now = 0
  let seq = 0
  const pending = new Map<number, { at: number; fn: () => void; ms: number }>()
  const timers: Timers & { advance(ms: number): void; delays(): number[] } = {
    now: () => now,
    setTimeout(fn, ms) {
      pending.set(++seq, { at: now + ms, fn, ms })
      return seq
    },
    clearTimeout(id) {
      pending.delete(id as number)
    },
    advance(ms) {
      const until = now + ms
      for (;;) {
        const next = [...pending].filter(([, t]) => t.at <= until).sort((a, b) => a[1].at - b[1].at)[0]
        if (!next) break
        pending.delete(next[0])
        now = next[1].at
        next[1].fn()
      }
      now = until
    },
    delays: () => [...pending.values()].map((t) => t.ms),
  }
  return timers
}

/** Sockets the test opens and closes by hand. */
function fakeSockets() {
  const sockets: SocketLike[] = []
  const openSocket = () => {
    const s: SocketLike = { onopen: null, onmessage: null, onclose: null, onerror: null, send: () => undefined, close: () => undefined }
    sockets.push(s)
    return s
  }
  const welcome = (s: SocketLike) => {
    s.onopen?.({})
    s.onmessage?.({ data: welcomeFrame({ connectionId: 'c', sessionId: 's', userId: 'u', username: 'n', heartbeatMs: 1_000_000, devices: [] }) })
  }
  return { sockets, openSocket, welcome }
}

function setup() {
  const timers = fakeTimers()
  const fake = fakeSockets()
  let online = () => undefined as unknown
  const client = new ChatgateClient(
    { baseUrl: 'http://chat.invalid', timers, reconnect: { random: () => 1 } },
    {
      openSocket: fake.openSocket,
      onOnline: (l) => {
        online = l
        return () => undefined
      },
    },
  )
  client.restore({ username: 'n', token: 't' })
  const conn: Connection = client.connect()
  timers.advance(0)
  return { timers, fake, conn, goOnline: () => online() }
}

test('backoff › full jitter should draw from [0, min(cap, base * 2^attempt))', () => {
  assert.is(
    fullJitterDelay(0, 500, 30_000, () => 1),
    500,
  )
  assert.is(
    fullJitterDelay(3, 500, 30_000, () => 0.5),
    2000,
  )
  assert.is(
    fullJitterDelay(10, 500, 30_000, () => 1),
    30_000,
  )
  assert.is(
    fullJitterDelay(4, 500, 30_000, () => 0),
    0,
  )
})

test('backoff › should wait 0.5 s, 1 s, 2 s … capped at 30 s between failing attempts, by default', () => {
  const { timers, fake } = setup()
  const asked: number[] = []
  for (let i = 0; i < 9; i++) {
    const s = fake.sockets.at(-1)!
    s.onopen?.({})
    s.onclose?.({ code: 1001 })
    asked.push(...timers.delays())
    timers.advance(timers.delays()[0]!)
  }
  assert.equal(asked, [500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000])
  assert.is(fake.sockets.length, 10, 'one socket per attempt, never two at once')
})

test('backoff › should start again from 0.5 s after a connection that stayed open 60 s', () => {
  const { timers, fake } = setup()
  for (let i = 0; i < 3; i++) {
    fake.sockets.at(-1)!.onclose?.({ code: 1011 })
    timers.advance(timers.delays()[0]!)
  }
  fake.welcome(fake.sockets.at(-1)!)
  timers.advance(59_000)
  fake.sockets.at(-1)!.onclose?.({ code: 1001 })
  assert.equal(timers.delays(), [4000], 'under 60 s open: the backoff goes on')
  timers.advance(4000)
  fake.welcome(fake.sockets.at(-1)!)
  timers.advance(60_000)
  fake.sockets.at(-1)!.onclose?.({ code: 1001 })
  assert.equal(timers.delays(), [500])
})

test("backoff › the browser's online event should reconnect at once, and never while a socket is open", () => {
  const { timers, fake, conn, goOnline } = setup()
  fake.welcome(fake.sockets[0]!)
  goOnline()
  assert.is(fake.sockets.length, 1, 'online while open: nothing')
  for (let i = 0; i < 5; i++) {
    fake.sockets.at(-1)!.onclose?.({ code: 1001 })
    timers.advance(timers.delays()[0]!)
  }
  fake.sockets.at(-1)!.onclose?.({ code: 1001 })
  assert.is(conn.state, 'reconnecting')
  assert.equal(timers.delays(), [16_000])
  const before = fake.sockets.length
  goOnline()
  assert.is(fake.sockets.length, before + 1, 'a new socket right away')
  goOnline()
  assert.is(fake.sockets.length, before + 1, 'not a second one')
})

test.run()
