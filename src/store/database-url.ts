/**
 * Which store DATABASE_URL names, decided without loading either driver: a node on SQLite never
 * loads `pg` (decision 0361).
 */

/** True for the URLs that select PostgreSQL: `postgres://` or `postgresql://`. */
export const isPostgresUrl = (url: string) => /^postgres(ql)?:\/\//i.test(url)

/** The SQLite file DATABASE_URL names (an optional `sqlite:` prefix dropped), or null for postgres://. */
export function sqlitePathOf(databaseUrl: string): string | null {
  return isPostgresUrl(databaseUrl) ? null : databaseUrl.replace(/^sqlite:(\/\/)?/, '')
}
