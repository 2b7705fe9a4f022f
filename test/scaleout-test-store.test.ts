import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { authHeaders, registerUser, request } from './helpers/http.js'
import { startServer } from './helpers/server.js'
import { pgAdmin } from './helpers/services.js'
import { testStoreKind } from './helpers/store-kind.js'

const schemaOf = (databaseUrl: string) => new URL(databaseUrl).searchParams.get('schema')
const schemaExists = async (schema: string) => (await pgAdmin('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema])).rowCount === 1

test('test servers › should run on the store the run asks for, and leave nothing behind', async () => {
  const srv = await startServer()
  try {
    assert.is(srv.app.store.kind, testStoreKind)
    assert.is(srv.storeKind, testStoreKind)
    if (testStoreKind === 'postgres') {
      assert.match(srv.databaseUrl, /^postgres:\/\//)
      assert.ok(await schemaExists(schemaOf(srv.databaseUrl)!))
    } else {
      assert.is(srv.databaseUrl, srv.dbPath)
    }
  } finally {
    await srv.close()
  }
  if (testStoreKind === 'postgres') assert.not.ok(await schemaExists(schemaOf(srv.databaseUrl)!), 'the schema must be dropped on close')
})

test('test servers › should keep accounts and sessions across a restart on the same dir', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'chatgate-restart-'))
  try {
    const first = await startServer({}, { dir })
    const reg = await registerUser(first.url, 'restart_user')
    await first.close()
    const second = await startServer({}, { dir })
    try {
      assert.is(second.databaseUrl, first.databaseUrl)
      const me = await request(second.url, 'GET', '/session', { headers: authHeaders(reg.token, reg.username) })
      assert.is(me.status, 200)
      assert.is(me.body.result.session.session_id, reg.sessionId)
    } finally {
      await second.close()
    }
    const other = await startServer()
    try {
      const me = await request(other.url, 'GET', '/session', { headers: authHeaders(reg.token, reg.username) })
      assert.is(me.status, 401, 'a server without the dir must not see that data')
    } finally {
      await other.close()
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test.run()
