/** The schema version this code expects; schema.sql creates version 1. */
export const SCHEMA_VERSION = 1

/**
 * Migrations from one version to the next, applied in order inside one transaction at start.
 * Add `{ to: 2, sql: 'ALTER TABLE …' }` here and bump SCHEMA_VERSION; never edit a shipped entry.
 */
export const migrations: { to: number; sql: string }[] = []
