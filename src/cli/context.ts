import { existsSync } from 'node:fs'
import { userInfo } from 'node:os'
import type { Logger } from 'pino'
import { createPasswordHasher, type PasswordHasher } from '../auth/passwords.js'
import { SessionService } from '../auth/sessions.js'
import { loadConfig, type Config } from '../config.js'
import { createLogger } from '../log.js'
import { openStore, sqlitePathOf } from '../store/open.js'
import type { Store } from '../store/types.js'
import { CliError } from './errors.js'

/** What a command works with: the same store and session service the server uses. */
export interface CliContext {
  config: Config
  store: Store
  sessions: SessionService
  log: Logger
  now: () => number
  /** Fields every audit line of the CLI carries. */
  actor: { actor: 'cli'; os_user: string }
}

/** The password pool, started only when a command first hashes (most commands never do). */
function lazyHasher(make: () => PasswordHasher): PasswordHasher {
  let pool: PasswordHasher | undefined
  const get = () => (pool ??= make())
  return {
    hash: (password) => get().hash(password),
    compare: (password, hash) => get().compare(password, hash),
    compareDummy: (password) => get().compareDummy(password),
    get queueDepth() {
      return pool?.queueDepth ?? 0
    },
    close: async () => {
      await pool?.close()
    },
  }
}


const osUser = () => {
  try {
    return userInfo().username
  } catch {
    return 'unknown'
  }
}

/**
 * Opens the store named by DATABASE_URL (the server may be running on it: SQLite in WAL mode with
 * a busy timeout). A missing SQLite file is an error unless `create` (a typo in DATABASE_URL must
 * not silently show an empty, new database). Runs `work`, then closes the pool and the store.
 */
export async function withContext<T>(env: NodeJS.ProcessEnv, create: boolean, work: (ctx: CliContext) => Promise<T>): Promise<T> {
  const config = loadConfig(env)
  const path = sqlitePathOf(config.databaseUrl)
  if (path !== null && path !== ':memory:' && !create && !existsSync(path)) {
    throw new CliError(`no database at ${path}: set DATABASE_URL to the server's database (default ./data/chatgate.db)`)
  }
  // Quiet by default: the command's own output is the record; LOG_LEVEL=info shows the audit lines on stderr.
  const log = createLogger(env.LOG_LEVEL ? config.logLevel : 'warn', process.stderr)
  const actor = { actor: 'cli' as const, os_user: osUser() }
  const hasher = lazyHasher(() => createPasswordHasher({ cost: config.bcryptCost, threads: 1, maxQueue: 10 }))
  const store = await openStore(config.databaseUrl, { sqliteLockWaitMs: config.sqliteLockWaitMs })
  const sessions = new SessionService({
    store,
    hasher,
    now: Date.now,
    sessionTtlMs: config.sessionTtlMs,
    // No bus here: the running server's watcher sees revocations in the database.
    onRevoked: (ids, reason) => log.info({ event: 'sessions_revoked', reason, count: ids.length, session_ids: ids, ...actor }, 'sessions revoked'),
  })
  try {
    return await work({ config, store, sessions, log, now: Date.now, actor })
  } finally {
    await hasher.close()
    await store.close()
  }
}
