import { openSqliteStore } from './sqlite.js'
import type { Store } from './types.js'

/** Opens the store named by DATABASE_URL: a `postgres://` URL or an SQLite file path. */
export async function openStore(databaseUrl: string): Promise<Store> {
  if (/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new Error('PostgreSQL support is not built yet: set DATABASE_URL to an SQLite file path')
  }
  return openSqliteStore(databaseUrl.replace(/^sqlite:(\/\/)?/, ''))
}
