import { sqlitePathOf } from './database-url.js'
import { openSqliteStore } from './sqlite.js'
import type { Store } from './types.js'

export interface OpenStoreOptions {
  /** Told about errors the store hits outside any call (an idle PostgreSQL connection dropped). */
  onError?: (err: Error) => void
  /** SQLite only: how long a call waits for another process's write lock (SQLITE_LOCK_WAIT_MS). */
  sqliteLockWaitMs?: number
  /** PostgreSQL only: bound of acquiring a connection and of each query (STORE_TIMEOUT_MS). */
  postgresTimeoutMs?: number
  /** SQLite only: page cache and memory-map sizes, MiB (SQLITE_CACHE_MB, SQLITE_MMAP_MB). */
  sqliteCacheMb?: number
  sqliteMmapMb?: number
}

/**
 * Opens the store named by DATABASE_URL: a `postgres://…[?schema=NAME]` URL (PostgreSQL, schema
 * migrated at open) or an SQLite file path (optionally `sqlite:` prefixed). The PostgreSQL store
 * and its driver are loaded only when the URL names PostgreSQL (decision 0361).
 */
export async function openStore(databaseUrl: string, options: OpenStoreOptions = {}): Promise<Store> {
  const path = sqlitePathOf(databaseUrl)
  if (path === null) {
    const { openPostgresStore } = await import('./postgres.js')
    return openPostgresStore(databaseUrl, { onError: options.onError, timeoutMs: options.postgresTimeoutMs })
  }
  return openSqliteStore(path, { lockWaitMs: options.sqliteLockWaitMs, cacheMb: options.sqliteCacheMb, mmapMb: options.sqliteMmapMb })
}
