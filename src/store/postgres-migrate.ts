import { readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type pg from 'pg'
import { inTransaction } from './postgres-pool.js'
import { PG_SCHEMA_VERSION, pgMigrations, type PgMigration } from './postgres-migrations.js'

const schemaFile = resolve(dirname(fileURLToPath(import.meta.url)), '../../schema.postgres.sql')

export interface MigrationPlan {
  /** SQL that creates version 1 on an empty schema. */
  schemaSql: string
  migrations: PgMigration[]
  /** The version this code expects; a database at a higher version is refused. */
  version: number
}

/** The plan of this build: schema.postgres.sql plus postgres-migrations.ts. */
export const currentPlan = (): MigrationPlan => ({
  schemaSql: readFileSync(schemaFile, 'utf8'),
  migrations: pgMigrations,
  version: PG_SCHEMA_VERSION,
})

/**
 * Brings `schema` to the plan's version in one transaction: creates the schema, then version 1,
 * then each migration. A transaction-scoped advisory lock (per schema name) makes nodes that start
 * together wait for each other instead of racing on CREATE TABLE. Returns the resulting version.
 */
export async function migratePostgres(pool: pg.Pool, schema: string, plan: MigrationPlan = currentPlan()): Promise<number> {
  return inTransaction(pool, async (db) => {
    await db.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`chatgate.migrate.${schema}`])
    // `schema` was checked to be a plain lowercase identifier (parsePostgresUrl), so it needs no quoting.
    if (schema !== 'public') await db.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`)
    await db.query(`SET LOCAL search_path TO ${schema}`)
    await db.query('CREATE TABLE IF NOT EXISTS schema_version (version integer PRIMARY KEY, applied_at bigint NOT NULL)')
    const found = await db.query<{ v: number | null }>('SELECT max(version) AS v FROM schema_version')
    let version = found.rows[0]?.v ?? 0
    if (version > plan.version) {
      throw new Error(`database schema version ${version} is newer than this chatgate (${plan.version})`)
    }
    const record = (v: number) => db.query('INSERT INTO schema_version (version, applied_at) VALUES ($1, $2)', [v, Date.now()])
    if (version === 0) {
      await db.query(plan.schemaSql)
      version = 1
      await record(version)
    }
    for (const m of plan.migrations.filter((m) => m.to > version)) {
      await db.query(m.sql)
      version = m.to
      await record(version)
    }
    return version
  })
}
