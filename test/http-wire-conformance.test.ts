import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { registerUser } from './helpers/http.js'
import { parseResponses, type WireResponse } from './helpers/http-responses.js'
import { openRaw } from './helpers/raw-socket.js'
import { startServer, type TestServer } from './helpers/server.js'
import { within } from './helpers/wait-for.js'

// What the fuzz test (test/http-fuzz.test.ts) found on the wire, one focused case each.

let srv: TestServer
let user: { token: string; username: string }

/** Sends raw bytes, waits for the server to close, and reads the answers strictly. */
async function exchange(text: string, head = false): Promise<WireResponse[]> {
  const c = await openRaw(srv.port)
  try {
    await c.write(Buffer.from(text, 'latin1'))
    await within(c.closed, 5_000, 'the server to answer and close')
    const parsed = parseResponses(Buffer.from(c.received(), 'latin1'), { closed: true, bodiless: (n) => head && n === 0 })
    assert.is(parsed.problem, null, `${parsed.problem}: ${JSON.stringify(c.received())}`)
    return parsed.responses
  } finally {
    c.destroy()
  }
}

const head = suite('http › answers to HEAD have no content (RFC 9110 section 9.3.2)')
head.before(async () => {
  srv = await startServer()
  user = await registerUser(srv.url, 'head-user')
})
head.after(() => srv.close())

head('gateway › should refuse a HEAD upgrade with the head alone', async () => {
  for (const target of ['/ws', '/healthz']) {
    const responses = await exchange(`HEAD ${target} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n`, true)
    assert.is(responses.length, 1, `${target}: one answer, no bytes after its head`)
    assert.ok(responses[0]!.status >= 400, target)
  }
})

head.run()
