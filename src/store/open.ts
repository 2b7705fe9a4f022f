import { openPostgresStore } from './postgres.js'
import { isPostgresUrl } from './postgres-pool.js'
import { openSqliteStore } from './sqlite.js'
import type { Store } from './types.js'

export interface OpenStoreOptions {
  /** Told about errors the store hits outside any call (an idle PostgreSQL connection dropped). */
  onError?: (err: Error) => void
}

/**
 * Opens the store named by DATABASE_URL: a `postgres://…[?schema=NAME]` URL (PostgreSQL, schema
 * migrated at open) or an SQLite file path (optionally `sqlite:` prefixed).
 */
export async function openStore(databaseUrl: string, options: OpenStoreOptions = {}): Promise<Store> {
  const path = sqlitePathOf(databaseUrl)
  return path === null ? openPostgresStore(databaseUrl, { onError: options.onError }) : openSqliteStore(path)
}

/** The SQLite file DATABASE_URL names (an optional `sqlite:` prefix dropped), or null for postgres://. */
export function sqlitePathOf(databaseUrl: string): string | null {
  return isPostgresUrl(databaseUrl) ? null : databaseUrl.replace(/^sqlite:(\/\/)?/, '')
}
