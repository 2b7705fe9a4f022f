import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { login, registerUser, request } from './helpers/http.js'
import { type NodeProcess, startNodeProcess } from './helpers/node-process.js'
import { connectOk } from './helpers/ws.js'

// Decision 0361: a node on SQLite without REDIS_URL never loads the PostgreSQL or Redis driver
// (~2.6 MiB of heap and ~10 MiB of RSS at start, and a tenth of a second of start-up).
const preload = fileURLToPath(new URL('./helpers/loaded-packages-preload.js', import.meta.url))
const runTs = fileURLToPath(new URL('./helpers/run-ts.js', import.meta.url))

/** The node_modules packages among the CommonJS files a process loaded. */
const packagesIn = (files: string[]) => new Set(files.flatMap((f) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(f)?.[1] ?? []))

test('node on SQLite › should serve logins and sockets without loading pg or ioredis', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'chatgate-lazy-'))
  const listFile = join(dir, 'loaded.json')
  let node: NodeProcess | undefined
  try {
    node = await startNodeProcess({ DATABASE_URL: join(dir, 'chatgate.db'), LOADED_PACKAGES_FILE: listFile }, 30_000, [
      '--import',
      preload,
      runTs,
      'src/main.ts',
    ])
    assert.is((await request(node.url, 'GET', '/healthz')).status, 200)
    await registerUser(node.url, 'lazyuser', 'password-123', 'laptop')
    const session = await login(node.url, 'lazyuser', 'password-123', 'phone')
    const { client, welcome } = await connectOk(node.url, { token: session.token, username: 'lazyuser' })
    assert.is(welcome.username, 'lazyuser')
    await client.close()
    assert.is(await node.stop(), 0, node.output())
    const loaded = packagesIn(JSON.parse(readFileSync(listFile, 'utf8')) as string[])
    // The list sees a driver an ES module imported: the SQLite one is in it.
    assert.ok(loaded.has('better-sqlite3'), `better-sqlite3 missing from the loaded packages: ${[...loaded].join(', ')}`)
    assert.not.ok(loaded.has('pg'), 'pg was loaded by a node on SQLite')
    assert.not.ok(loaded.has('pg-pool'), 'pg-pool was loaded by a node on SQLite')
    assert.not.ok(loaded.has('ioredis'), 'ioredis was loaded by a node without REDIS_URL')
  } finally {
    await node?.kill()
    rmSync(dir, { recursive: true, force: true })
  }
})

test.run()
