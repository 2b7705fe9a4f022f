import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino from 'pino'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { AuditTrail } from '../src/operators/audit.js'
import { openSqliteStore } from '../src/store/sqlite.js'

// Actions recorded within one millisecond tie on `at`; the listing (newest first) must still give
// them in the order they happened, on every page.

test('audit trail › actions of one millisecond should be listed newest first, across pages', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'chatgate-audit-order-'))
  const store = openSqliteStore(join(dir, 'audit.db'))
  try {
    const trail = new AuditTrail({ store, log: pino({ level: 'silent' }), nodeId: 'n1', now: () => 1_800_000_000_000 })
    const actions = Array.from({ length: 40 }, (_, i) => `action_${i}`)
    for (const action of actions) await trail.record({ actor: 'admin', via: 'http', action, target: 'someone' })
    const seen: string[] = []
    let cursor: Parameters<typeof store.listAudit>[0]['cursor']
    do {
      const page = await store.listAudit({ limit: 7, cursor })
      seen.push(...page.rows.map((e) => e.action))
      cursor = page.next ?? undefined
    } while (cursor)
    assert.equal(seen, [...actions].reverse())
  } finally {
    await store.close()
    rmSync(dir, { recursive: true, force: true })
  }
})

test.run()
