import { randomBytes } from 'node:crypto'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { HandshakePacer, type PacerOptions } from '../src/gateway/handshake-pacer.js'
import { login, registerUser } from './helpers/http.js'
import { hasCompleteResponse, openRaw, statusOf, type RawClient } from './helpers/raw-socket.js'
import { startServer } from './helpers/server.js'
import { waitFor } from './helpers/ws.js'

/** A pacer on a driven clock whose "check phase" runs only when the test says so. */
function driven(over: Partial<PacerOptions<string>> = {}) {
  let t = 0
  const deferred: (() => void)[] = []
  const begun: string[] = []
  const refused: string[] = []
  const goneItems = new Set<string>()
  const pacer = new HandshakePacer<string>({
    sliceMs: 5,
    maxQueued: 100,
    maxWaitMs: 1_000,
    now: () => t,
    defer: (fn) => void deferred.push(fn),
    begin: (item) => {
      begun.push(item)
      t += 2 // every handshake costs 2 ms of the loop
    },
    refuse: (item) => void refused.push(item),
    gone: (item) => goneItems.has(item),
    ...over,
  })
  return {
    pacer,
    begun,
    refused,
    goneItems,
    advance: (ms: number) => (t += ms),
    /** The loop reaches its check phase: what was deferred runs (what they defer waits for the next turn). */
    turn() {
      const now = deferred.splice(0)
      for (const fn of now) fn()
    },
  }
}

const unit = suite('pacer')

unit('should begin upgrades at once while the turn has time left, in arrival order', () => {
  const d = driven()
  d.pacer.submit('a')
  d.pacer.submit('b')
  d.pacer.submit('c') // 4 ms used: still under the 5 ms slice
  assert.equal(d.begun, ['a', 'b', 'c'])
  assert.is(d.pacer.waiting, 0)
})

unit('should make the rest of a burst wait, then begin one per turn after the loop polled, oldest first', () => {
  const d = driven()
  for (const id of ['a', 'b', 'c', 'd', 'e', 'f']) d.pacer.submit(id)
  assert.equal(d.begun, ['a', 'b', 'c'])
  assert.is(d.pacer.waiting, 3)
  d.turn()
  assert.equal(d.begun, ['a', 'b', 'c', 'd'])
  d.turn()
  d.turn()
  assert.equal(d.begun, ['a', 'b', 'c', 'd', 'e', 'f'])
  assert.is(d.pacer.waiting, 0)
  assert.equal(d.refused, [])
})

unit('should let a waiting upgrade go before a newer one when a new turn has time', () => {
  const d = driven()
  for (const id of ['a', 'b', 'c', 'd']) d.pacer.submit(id)
  d.turn() // d begins, and the turn that began it ends at the next check phase
  d.turn()
  d.pacer.submit('e')
  d.pacer.submit('f')
  assert.equal(d.begun, ['a', 'b', 'c', 'd', 'e', 'f'])
})

unit('should refuse at once when maxQueued upgrades wait', () => {
  const d = driven({ maxQueued: 2 })
  for (const id of ['a', 'b', 'c', 'd', 'e', 'f']) d.pacer.submit(id)
  assert.equal(d.begun, ['a', 'b', 'c'])
  assert.equal(d.refused, ['f'])
  assert.is(d.pacer.waiting, 2)
})

unit('should refuse new upgrades while the oldest waiting one has waited maxWaitMs, and queue again once it began', () => {
  const d = driven({ maxWaitMs: 100 })
  for (const id of ['a', 'b', 'c', 'd', 'e']) d.pacer.submit(id)
  d.advance(150)
  d.pacer.submit('late')
  assert.equal(d.refused, ['late'])
  d.turn()
  d.turn()
  assert.is(d.pacer.waiting, 0)
  d.pacer.submit('g')
  assert.equal(d.begun.at(-1), 'g')
})

unit('should skip a waiting upgrade whose client left', () => {
  const d = driven()
  for (const id of ['a', 'b', 'c', 'd', 'e']) d.pacer.submit(id)
  d.goneItems.add('d')
  d.turn()
  assert.equal(d.begun, ['a', 'b', 'c', 'e'])
})

unit('should refuse everything beyond the slice when nothing may wait (UPGRADE_QUEUE_MAX=0)', () => {
  const d = driven({ maxQueued: 0 })
  for (const id of ['a', 'b', 'c', 'd']) d.pacer.submit(id)
  assert.equal(d.begun, ['a', 'b', 'c'])
  assert.equal(d.refused, ['d'])
})

unit.run()

// ── through a real server ───────────────────────────────────────────────────────────────────────
const burst = suite('burst')

/**
 * Opens `tokens.length` TCP connections, then writes every upgrade request in one synchronous loop,
 * so that the server reads them all in one poll of its event loop (a reconnect storm in small).
 */
async function burstOfUpgrades(port: number, username: string, tokens: string[]): Promise<RawClient[]> {
  const sockets = await Promise.all(tokens.map(() => openRaw(port)))
  tokens.forEach((token, i) => {
    const key = randomBytes(16).toString('base64')
    sockets[i]!.socket.write(
      `GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\nToken: ${token}\r\nUsername: ${username}\r\n\r\n`,
    )
  })
  // Each answer is complete once a 101 has its welcome frame or a refusal its body.
  await waitFor(
    () => sockets.every((s) => /^HTTP\/1\.1 101[\s\S]*"welcome"/.test(s.received()) || (statusOf(s.received()) !== 101 && hasCompleteResponse(s.received()))),
    10_000,
    'every upgrade answered',
  )
  return sockets
}

burst('gateway › should welcome every upgrade of a burst that may wait (the defaults), in turn, none refused', async () => {
  const server = await startServer({ UPGRADE_SLICE_MS: '0', MAX_CONNECTIONS_PER_USER: '1000' })
  try {
    await registerUser(server.url, 'patient')
    const tokens = await Promise.all(Array.from({ length: 60 }, async () => (await login(server.url, 'patient')).token))
    const sockets = await burstOfUpgrades(server.port, 'patient', tokens)
    assert.equal(
      sockets.map((s) => statusOf(s.received())).filter((status) => status !== 101),
      [],
    )
    await waitFor(() => server.app.gateway.registry.size === 60, 5_000, 'all 60 registered')
    for (const s of sockets) s.destroy()
  } finally {
    await server.close()
  }
})

burst.run()
