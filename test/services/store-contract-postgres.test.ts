import { openPostgresStore } from '../../src/store/postgres.js'
import { defineStoreContract } from '../helpers/store-contract.js'
import { dropSchema, newSchemaName, pgUrlFor, requirePostgres } from '../helpers/services.js'

await requirePostgres()

// The store contract on PostgreSQL, each test in a fresh schema that is dropped afterwards.
defineStoreContract('postgres', async () => {
  const schema = newSchemaName()
  const store = await openPostgresStore(pgUrlFor(schema))
  return {
    store,
    async cleanup() {
      await store.close()
      await dropSchema(schema)
    },
  }
})
