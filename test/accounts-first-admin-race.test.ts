import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { backofficeLogin } from './helpers/http.js'
import { startServer } from './helpers/server.js'
import { dropSchema, newSchemaName, pgUrlFor } from './helpers/services.js'
import { testStoreKind } from './helpers/store-kind.js'

test('first start › should create one admin and warn about nothing when three nodes start together on one database', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'chatgate-race-'))
  const schema = testStoreKind === 'postgres' ? newSchemaName() : undefined
  const shared = schema ? pgUrlFor(schema) : join(dir, 'shared.db')
  const nodes = await Promise.all([1, 2, 3].map((i) => startServer({ DATABASE_URL: shared, NODE_ID: `race-${i}` })))
  try {
    const lines = nodes.flatMap((n) => n.logs.map((l) => JSON.parse(l) as Record<string, unknown>))
    assert.is(lines.filter((l) => l.event === 'admin_created').length, 1, 'exactly one node creates the admin')
    const warnings = lines.filter((l) => (l.level as number) >= 40)
    assert.equal(warnings, [], 'losing the race is not a problem worth a warning')
    for (const n of nodes) await backofficeLogin(n.url)
  } finally {
    for (const n of nodes) await n.close()
    if (schema) await dropSchema(schema)
    rmSync(dir, { recursive: true, force: true })
  }
})

test.run()
