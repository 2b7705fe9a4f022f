import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { login, registerUser, request } from './helpers/http.js'
import { type NodeProcess, startNodeProcess } from './helpers/node-process.js'
import { waitFor } from './helpers/wait-for.js'

// The compiled build, run as `npm start` and `chatgate` run it: the paths dist/ files compute from
// import.meta.url (schema.sql, package.json, both worker files) must resolve there as they do in src/.
const root = fileURLToPath(new URL('..', import.meta.url))
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }

/** Fails with the fix when there is no build to test (npm install builds it through `prepare`). */
function requireBuild(): void {
  for (const file of ['dist/main.js', 'dist/cli/main.js']) {
    if (!existsSync(join(root, file))) throw new Error(`${file} is missing: run npm run build`)
  }
}

test('build › node dist/main.js should serve /healthz, a signup and a login, checkpoint the WAL and exit 0 on SIGTERM', async () => {
  requireBuild()
  const dir = mkdtempSync(join(tmpdir(), 'chatgate-dist-'))
  const dbPath = join(dir, 'chatgate.db')
  let node: NodeProcess | undefined
  try {
    node = await startNodeProcess({ DATABASE_URL: dbPath }, 30_000, ['dist/main.js'])
    assert.is((await request(node.url, 'GET', '/healthz')).status, 200)
    assert.is((await request(node.url, 'GET', '/openapi.json')).body.info.version, version)
    await registerUser(node.url, 'distuser', 'password-123', 'laptop')
    const session = await login(node.url, 'distuser', 'password-123', 'phone')
    assert.ok(session.token.length > 0)
    // Only the checkpoint worker moves WAL pages into the file while the node runs (the main
    // connection's fallback is thousands of pages away): a larger file shows the worker loaded.
    await waitFor(() => statSync(dbPath).size > 4096, 5_000, 'the checkpoint worker to grow the database file')
    assert.is(await node.stop(), 0, node.output())
  } finally {
    await node?.kill()
    rmSync(dir, { recursive: true, force: true })
  }
})

test('build › node bin/chatgate.js --help should print the usage and exit 0', async () => {
  requireBuild()
  const { stdout } = await promisify(execFile)(process.execPath, ['bin/chatgate.js', '--help'], { cwd: root, timeout: 30_000 })
  assert.match(stdout, /^usage: chatgate <command>/)
})

test.run()
