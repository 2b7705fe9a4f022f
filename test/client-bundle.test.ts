import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { gzipSync } from 'node:zlib'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { request } from './helpers/http.js'
import { startServer, type TestServer } from './helpers/server.js'

/** CLIENT.md: the browser build stays under 6 KiB gzipped. */
const MAX_GZIPPED_BYTES = 6 * 1024
const root = fileURLToPath(new URL('..', import.meta.url))

let srv: TestServer
test.before(async () => {
  srv = await startServer()
})
test.after(async () => {
  await srv.close()
})

test('client.js › should be public JavaScript, cacheable by its ETag, readable from any origin', async () => {
  const res = await fetch(`${srv.url}/client.js`, { headers: { Origin: 'https://elsewhere.example' } })
  assert.is(res.status, 200)
  assert.match(res.headers.get('content-type')!, /^text\/javascript\b/)
  assert.is(res.headers.get('access-control-allow-origin'), '*')
  assert.is(res.headers.get('x-content-type-options'), 'nosniff')
  assert.not.match(res.headers.get('cache-control') ?? '', /no-store/)
  const etag = res.headers.get('etag')
  assert.ok(etag, 'an ETag')
  const again = await fetch(`${srv.url}/client.js`, { headers: { 'If-None-Match': etag! } })
  assert.is(again.status, 304)
  assert.is(again.headers.get('access-control-allow-origin'), '*')
})

test(`client.js › should be one self-contained ES module of at most ${MAX_GZIPPED_BYTES} bytes gzipped`, async () => {
  const body = Buffer.from(await (await fetch(`${srv.url}/client.js`)).arrayBuffer())
  const gzipped = gzipSync(body, { level: 9 }).length
  assert.ok(gzipped <= MAX_GZIPPED_BYTES, `client.js is ${gzipped} bytes gzipped, over ${MAX_GZIPPED_BYTES}`)
  const text = body.toString('utf8')
  assert.not.match(text, /\bimport\s*[\s{*"'(]|\brequire\(/, 'no import or require left in the bundle')
  assert.not.match(text, /node:|\bBuffer\b|process\.env/, 'nothing of Node in the browser build')
  // It imports as an ES module and exports the contract's names.
  const dir = mkdtempSync(join(tmpdir(), 'chatgate-clientjs-'))
  try {
    const file = join(dir, 'client.mjs')
    writeFileSync(file, body)
    const mod = await import(pathToFileURL(file).href)
    assert.type(mod.ChatgateClient, 'function')
    assert.type(mod.ChatgateError, 'function')
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('client.js › should be in /openapi.json as text/javascript', async () => {
  const doc = (await request(srv.url, 'GET', '/openapi.json')).body
  const op = doc.paths['/client.js']?.get
  assert.ok(op, '/client.js is described')
  assert.ok(op.responses['200'].content['text/javascript'], JSON.stringify(op.responses['200']))
})

test('client.js › the package entry chatgate/client should resolve to the compiled Node build, with types', async () => {
  if (!existsSync(join(root, 'dist/client/node.js'))) throw new Error('dist/client/node.js is missing: run npm run build')
  const entry: string = 'chatgate/client' // a variable: typechecking must not depend on a build
  const resolved = import.meta.resolve(entry)
  assert.is(resolved, pathToFileURL(join(root, 'dist/client/node.js')).href)
  assert.ok(existsSync(join(root, 'dist/client/node.d.ts')), 'types beside it')
  const mod = await import(entry)
  assert.type(mod.ChatgateClient, 'function')
  assert.type(mod.ChatgateError, 'function')
})

test.run()
