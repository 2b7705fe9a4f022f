/** The schema version this code expects; schema.postgres.sql creates version 1. */
export const PG_SCHEMA_VERSION = 1

/** One step from the previous version to `to`, run inside the migration transaction. */
export interface PgMigration {
  to: number
  sql: string
}

/**
 * Migrations applied in order at open, in one transaction under an advisory lock.
 * Add `{ to: 2, sql: 'ALTER TABLE …' }` here and bump PG_SCHEMA_VERSION (and the SQLite twin in
 * sqlite-migrations.ts); never edit a shipped entry.
 */
export const pgMigrations: PgMigration[] = []
