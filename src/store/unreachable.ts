import { StoreUnavailableError } from './types.js'

/** Socket errors of a connection to a server that is gone, refusing, or unreachable. */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN'])
/**
 * SQLSTATEs of a server that cannot serve now: connection exceptions (class 08), shutdown and
 * start-up (57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now), a statement
 * cancelled by statement_timeout (57014), too many connections (53300).
 */
const POSTGRES_STATES = /^(08...|57P0[123]|57014|53300)$/
/** What `pg` throws itself when a connection or a query gave up (it sets no code on these). */
const PG_MESSAGES = /Connection terminated|timeout exceeded when trying to connect|Query read timeout|connection timeout|not queryable|Connection ended/i

/** True when a PostgreSQL call failed because the server could not be reached or could not serve in time. */
export function isPostgresUnreachable(e: unknown): boolean {
  if (e instanceof StoreUnavailableError) return true
  const code = String((e as { code?: unknown } | null)?.code ?? '')
  if (SOCKET_CODES.has(code) || POSTGRES_STATES.test(code)) return true
  return e instanceof Error && code === '' && PG_MESSAGES.test(e.message)
}

/**
 * True when an SQLite call failed because the file cannot be used now (I/O error, cannot open,
 * disk full) or stayed locked past its wait bound: nothing the request did wrong, nothing written.
 */
export function isSqliteUnusable(e: unknown): boolean {
  if (e instanceof StoreUnavailableError) return true
  return /^SQLITE_(IOERR|CANTOPEN|FULL|BUSY)(_|$)/.test(String((e as { code?: unknown } | null)?.code ?? ''))
}
