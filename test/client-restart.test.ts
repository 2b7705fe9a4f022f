import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ChatgateClient, failOnUnhandledRejection, nextEvent } from './helpers/client.js'
import { type NodeProcess, startNodeProcess } from './helpers/node-process.js'

const unhandled = failOnUnhandledRejection()

test('restart › a node restart (SIGTERM → 1001) should reconnect by itself and get a fresh welcome', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'chatgate-client-restart-'))
  const env = { DATABASE_URL: join(dir, 'chatgate.db') }
  let node: NodeProcess | undefined
  try {
    node = await startNodeProcess(env)
    const app = new ChatgateClient({ baseUrl: node.url })
    await app.register({ username: 'restarter', password: 'password-123', deviceName: 'phone' })
    const conn = app.connect()
    const states: string[] = []
    conn.on('state', (s) => states.push(s))
    const first = await nextEvent(conn, 'welcome')
    const port = node.port

    const reconnecting = nextEvent(conn, 'state')
    assert.is(await node.stop(), 0)
    assert.is(await reconnecting, 'reconnecting')
    node = await startNodeProcess({ ...env, PORT: String(port) })
    const second = await nextEvent(conn, 'welcome', 40_000)
    assert.is.not(second.connectionId, first.connectionId, 'a fresh welcome from the new process')
    assert.is(second.sessionId, first.sessionId, 'the same session')
    assert.is(conn.state, 'open')
    assert.equal(states, ['open', 'reconnecting', 'open'])
    assert.ok(app.credentials, 'credentials kept across a restart')
    conn.close()
  } finally {
    await node?.stop()
    rmSync(dir, { recursive: true, force: true })
  }
  assert.equal(unhandled, [])
})

test.run()
