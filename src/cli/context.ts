import { existsSync } from 'node:fs'
import { hostname, userInfo } from 'node:os'
import type { Logger } from 'pino'
import { createPasswordHasher, type PasswordHasher } from '../auth/passwords.js'
import { AccountService } from '../accounts/accounts.js'
import { SessionService } from '../auth/sessions.js'
import type { RedisBus } from '../cluster/redis-bus.js'
import type { BusEvent } from '../cluster/bus.js'
import { loadConfig, type Config } from '../config.js'
import { liveNodesSince } from '../cluster/liveness.js'
import { createLogger } from '../log.js'
import { AuditTrail } from '../operators/audit.js'
import { sqlitePathOf } from '../store/database-url.js'
import { openStore } from '../store/open.js'
import type { RevokeReason, Store } from '../store/types.js'
import { CliError } from './errors.js'

/** How long the CLI waits for Redis before it acts without it (the nodes' database watcher still sees the change). */
const BUS_CONNECT_TIMEOUT_MS = 2_000

/** What a command works with: the same store and session service the server uses. */
export interface CliContext {
  config: Config
  store: Store
  sessions: SessionService
  accounts: AccountService
  log: Logger
  now: () => number
  /** Fields every audit line of the CLI carries. */
  actor: { actor: 'cli'; os_user: string }
  /**
   * Records one operator action: an audit row in the store and an `info` line (the same fields).
   * One live node counts it in its metrics: with REDIS_URL through an `operator_action` event
   * (with the sessions the action revoked), else through the row, which names that node.
   */
  audit(action: string, target: string, details: Record<string, unknown>): Promise<void>
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
 * Opens the store named by DATABASE_URL (the server may be running on it: SQLite in WAL mode; a call
 * waits up to SQLITE_LOCK_WAIT_MS for the server's write lock). A missing SQLite file is an error unless `create` (a typo in DATABASE_URL must
 * not silently show an empty, new database). Runs `work`, then closes the pool and the store.
 */
export async function withContext<T>(env: NodeJS.ProcessEnv, create: boolean, work: (ctx: CliContext) => Promise<T>): Promise<T> {
  const config = loadConfig(env)
  const path = sqlitePathOf(config.databaseUrl)
  if (path !== null && path !== ':memory:' && !create && !existsSync(path)) {
    throw new CliError(`no database at ${path}: set DATABASE_URL to the server's database (default ./data/chatgate.db)`)
  }
  // Audit lines (info) go to stderr as JSON at the default level; the command's own output is on stdout.
  const log = createLogger(config.logLevel, process.stderr)
  const actor = { actor: 'cli' as const, os_user: osUser() }
  const hasher = lazyHasher(() => createPasswordHasher({ cost: config.bcryptCost, threads: 1, maxQueue: 10 }))
  const store = await openStore(config.databaseUrl, {
    sqliteLockWaitMs: config.sqliteLockWaitMs,
    sqliteCacheMb: config.sqliteCacheMb,
    sqliteMmapMb: config.sqliteMmapMb,
  })
  const bus = config.redisUrl ? await openCliBus(config, log) : null
  const publishing: Promise<void>[] = []
  const publish = (event: BusEvent) => {
    if (bus) publishing.push(bus.publish(event))
  }
  let revoked: { reason: RevokeReason; count: number } | null = null
  const sessions = new SessionService({
    store,
    hasher,
    now: Date.now,
    sessionTtlMs: config.sessionTtlMs,
    // With Redis, every node closes the sockets at once; without it, the nodes' database watcher does.
    onRevoked: (ids, reason) => {
      revoked = { reason, count: (revoked?.count ?? 0) + ids.length }
      log.info({ event: 'sessions_revoked', reason, count: ids.length, session_ids: ids, ...actor }, 'sessions revoked')
      publish({ type: 'sessions_revoked', sessionIds: ids, reason, revokedAt: Date.now() })
    },
  })
  const trail = new AuditTrail({ store, log, nodeId: config.nodeId ?? hostname(), now: Date.now })
  async function audit(action: string, target: string, details: Record<string, unknown>): Promise<void> {
    const [countOn] = await store.listNodes(liveNodesSince(config.nodeHeartbeatMs, Date.now()))
    await trail.record(
      { actor: actor.os_user, via: 'cli', action, target, details: { ...details, os_user: actor.os_user } },
      bus ? null : (countOn?.id ?? null),
    )
    if (bus) publish({ type: 'operator_action', action, via: 'cli', countOn: countOn?.id ?? null, revoked })
  }
  try {
    const accounts = new AccountService({ store, hasher, sessions, now: Date.now })
    return await work({ config, store, sessions, accounts, log, now: Date.now, actor, audit })
  } finally {
    await Promise.all(publishing)
    await bus?.close()
    await hasher.close()
    await store.close()
  }
}

/** The bus to the running nodes, or null (with a warning) when Redis does not answer in time. */
async function openCliBus(config: Config, log: Logger): Promise<RedisBus | null> {
  // Outside the try: a driver that fails to load is an installation error, not Redis being away.
  const { RedisBus } = await import('../cluster/redis-bus.js')
  try {
    return await RedisBus.open({ url: config.redisUrl!, prefix: config.redisPrefix, log, connectTimeoutMs: BUS_CONNECT_TIMEOUT_MS })
  } catch (err) {
    log.warn({ err, event: 'bus_unavailable' }, 'redis is not reachable: the nodes will see this change through the database within a second')
    return null
  }
}
