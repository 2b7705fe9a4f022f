import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openSqliteStore } from '../src/store/sqlite.js'
import { defineStoreContract } from './helpers/store-contract.js'

// The store contract on SQLite; test/services/store-contract-postgres.test.ts runs the same on PostgreSQL.
defineStoreContract('sqlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'chatgate-store-'))
  const store = openSqliteStore(join(dir, 'chatgate.db'))
  return {
    store,
    async cleanup() {
      await store.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
})
