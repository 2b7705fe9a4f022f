import Database from 'better-sqlite3'
import pg from 'pg'
import { sqlitePathOf } from '../../src/store/database-url.js'

/**
 * Runs one SQL statement straight against a chatgate database, bypassing chatgate, as an operator's
 * psql/sqlite3 or another program would. `?` placeholders; `databaseUrl` is a test server's
 * DATABASE_URL (an SQLite path, or a postgres:// URL with `?schema=`). Returns the rows changed.
 */
export async function writeDirectly(databaseUrl: string, sql: string, params: unknown[] = []): Promise<number> {
  const path = sqlitePathOf(databaseUrl)
  if (path !== null) {
    const db = new Database(path)
    try {
      db.pragma('busy_timeout = 5000')
      return db.prepare(sql).run(...params).changes
    } finally {
      db.close()
    }
  }
  const url = new URL(databaseUrl)
  const schema = url.searchParams.get('schema')
  url.searchParams.delete('schema')
  const client = new pg.Client({ connectionString: url.toString() })
  await client.connect()
  try {
    if (schema) await client.query(`SET search_path TO "${schema.replaceAll('"', '""')}"`)
    let n = 0
    const res = await client.query(
      sql.replace(/\?/g, () => `$${++n}`),
      params,
    )
    return res.rowCount ?? 0
  } finally {
    await client.end()
  }
}
