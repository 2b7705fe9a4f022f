import { z } from 'zod'
import { parseOriginList } from './request/origin-list.js'
import { DEPENDENCY_WARN_EVERY_MS } from './health/dependency-health.js'
import { STORE_TIMEOUT_MS } from './store/guarded.js'
import { SQLITE_LOCK_WAIT_MS } from './store/sqlite-lock-waiter.js'
import { SQLITE_CACHE_MB, SQLITE_MMAP_MAX_MB, SQLITE_MMAP_MB } from './store/sqlite-pragmas.js'

/** Every setting chatgate reads, with its default, validated once at start. */
const Env = z
  .object({
    PORT: z.coerce.number().int().min(0).max(65535).default(8080),
    HOST: z.string().default('0.0.0.0'),
    DATABASE_URL: z.string().min(1).default('./data/chatgate.db'),
    SQLITE_LOCK_WAIT_MS: z.coerce.number().int().min(0).max(60_000).default(SQLITE_LOCK_WAIT_MS),
    STORE_TIMEOUT_MS: z.coerce.number().int().min(50).max(60_000).default(STORE_TIMEOUT_MS),
    DEPENDENCY_WARN_EVERY_MS: z.coerce.number().int().min(100).max(3_600_000).default(DEPENDENCY_WARN_EVERY_MS),
    SQLITE_CACHE_MB: z.coerce.number().int().min(2).max(65_536).default(SQLITE_CACHE_MB),
    SQLITE_MMAP_MB: z.coerce.number().int().min(0).max(SQLITE_MMAP_MAX_MB).default(SQLITE_MMAP_MB),
    REDIS_URL: z.string().url().optional(),
    REDIS_PREFIX: z
      .string()
      .regex(/^[A-Za-z0-9:_.-]{1,64}$/, 'REDIS_PREFIX: 1-64 characters of A-Z a-z 0-9 : _ . -')
      .default('chatgate:'),
    BUS_MAX_AGE_MS: z.coerce.number().int().min(100).max(600_000).default(5_000),
    REDIS_LIMITER_COOLDOWN_MS: z.coerce.number().int().min(100).max(600_000).default(10_000),
    NODE_ID: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,64}$/)
      .optional(),
    BCRYPT_COST: z.coerce.number().int().min(4).max(15).default(10),
    SESSION_TTL_DAYS: z.coerce.number().positive().max(3650).default(30),
    DUPLICATE_POLICY: z.enum(['replace', 'reject', 'revoke']).default('replace'),
    HEARTBEAT_MS: z.coerce.number().int().min(100).max(600_000).default(30_000),
    NODE_HEARTBEAT_MS: z.coerce.number().int().min(100).max(60_000).default(5_000),
    ALLOWED_ORIGINS: z
      .string()
      .transform((text, ctx) => {
        const { origins, problems } = parseOriginList(text)
        for (const message of problems) ctx.addIssue({ code: 'custom', message })
        return origins
      })
      .optional(),
    SIGNUP: z.enum(['open', 'closed']).default('open'),
    CHATGATE_ADMIN_PASSWORD: z.string().optional(),
    CHATGATE_SERVICE_TOKEN: z.string().min(32, 'CHATGATE_SERVICE_TOKEN must be at least 32 characters').optional(),
    METRICS_TOKEN: z.string().min(16, 'METRICS_TOKEN must be at least 16 characters').optional(),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    HASH_WORKERS: z.coerce.number().int().min(1).max(64).optional(),
    HASH_QUEUE_MAX: z.coerce.number().int().min(1).max(100_000).default(1000),
    HASH_THREAD_NICE: z.coerce.number().int().min(0).max(19).default(10),
    MAX_CONNECTIONS_PER_USER: z.coerce.number().int().min(1).max(100_000).default(20),
    MAX_CONNECTIONS_PER_IP: z.coerce.number().int().min(1).max(1_000_000).default(1000),
    WS_MAX_PAYLOAD: z.coerce
      .number()
      .int()
      .min(1024)
      .max(16 * 1024 * 1024)
      .default(64 * 1024),
    WS_MESSAGES_PER_10S: z.coerce.number().int().min(1).max(100_000).default(100),
    WS_MAX_BUFFERED_BYTES: z.coerce
      .number()
      .int()
      .min(1024)
      .default(4 * 1024 * 1024),
    SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).max(600_000).default(10_000),
    LISTEN_BACKLOG: z.coerce.number().int().min(1).max(65_535).default(4096),
    UPGRADE_SLICE_MS: z.coerce.number().min(0).max(1_000).default(5),
    UPGRADE_QUEUE_MAX: z.coerce.number().int().min(0).max(100_000).default(5_000),
    UPGRADE_QUEUE_WAIT_MS: z.coerce.number().int().min(1).max(60_000).default(5_000),
    TRUST_PROXY: z.enum(['true', 'false']).default('false'),
    LOGIN_ATTEMPTS_PER_ACCOUNT_PER_MIN: z.coerce.number().int().min(1).max(1_000_000).default(10),
    LOGIN_ATTEMPTS_PER_IP_PER_MIN: z.coerce.number().int().min(1).max(1_000_000).default(30),
    REGISTRATIONS_PER_IP_PER_HOUR: z.coerce.number().int().min(1).max(1_000_000).default(10),
    UPGRADES_PER_IP_PER_MIN: z.coerce.number().int().min(1).max(1_000_000).default(120),
    HTTP_HEADERS_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(10_000),
    HTTP_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(30_000),
    HTTP_MAX_HEADER_BYTES: z.coerce
      .number()
      .int()
      .min(1024)
      .max(1024 * 1024)
      .default(16 * 1024),
    HTTP_KEEPALIVE_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(5_000),
    HTTP_MAX_REQUESTS_PER_SOCKET: z.coerce.number().int().min(1).max(1_000_000).default(1000),
  })
  .refine((e) => e.HTTP_HEADERS_TIMEOUT_MS <= e.HTTP_REQUEST_TIMEOUT_MS, {
    path: ['HTTP_HEADERS_TIMEOUT_MS'],
    message: 'must not be greater than HTTP_REQUEST_TIMEOUT_MS',
  })

export type Config = {
  port: number
  host: string
  databaseUrl: string
  /**
   * SQLite only: how long a store call waits, off the event loop, while another process holds the
   * file's write lock; past it the request is answered 503 UNAVAILABLE and nothing is written.
   */
  sqliteLockWaitMs: number
  /**
   * PostgreSQL only: the bound of one store call (a connection acquired, each query, the whole call);
   * past it, or when the server cannot be reached, the request is answered 503 UNAVAILABLE.
   */
  storeTimeoutMs: number
  /** While the store or Redis stays unreachable, one `warn` per this many ms (down and back: one line each). */
  dependencyWarnEveryMs: number
  /** SQLite only: page cache per connection, MiB (it grows only with the pages read). */
  sqliteCacheMb: number
  /** SQLite only: bytes of the file read through a memory map, MiB (0: plain reads). */
  sqliteMmapMb: number
  redisUrl: string | undefined
  /** Prefix of every Redis channel and key this deployment uses (several deployments, or tests, can share a server). */
  redisPrefix: string
  /**
   * Oldest a message from another node (or a push) may be when it arrives: older ones are dropped
   * and counted (chatgate_bus_stale_dropped_total), so an event is delivered on time or not at all.
   */
  busMaxAgeMs: number
  /**
   * After a Redis timeout or error, how long the rate limits count in this node's memory before one
   * command tries Redis again (the limiter's breaker).
   */
  redisLimiterCooldownMs: number
  nodeId: string | undefined
  bcryptCost: number
  sessionTtlMs: number
  duplicatePolicy: 'replace' | 'reject' | 'revoke'
  heartbeatMs: number
  /**
   * How often a node writes its heartbeat row. A node silent for 3 periods is dead (its sockets
   * stop counting), for 4 it is purged with its rows (src/cluster/liveness.ts). The same on every node.
   */
  nodeHeartbeatMs: number
  /**
   * Browser origins allowed to open the WebSocket and to call the user routes cross-origin (CORS),
   * each exactly as browsers send `Origin`. `undefined` means: same-origin browsers only, no CORS;
   * clients without Origin always pass.
   */
  allowedOrigins: string[] | undefined
  signupOpen: boolean
  adminPassword: string | undefined
  serviceToken: string | undefined
  /** Set → `GET /metrics` requires `Authorization: Bearer <token>`; unset → /metrics is open. */
  metricsToken: string | undefined
  logLevel: string
  hashWorkers: number | undefined
  hashQueueMax: number
  /** Niceness of the bcrypt threads (Linux, per thread): above 0 the event loop wins a shared core. */
  hashThreadNice: number
  maxConnectionsPerUser: number
  maxConnectionsPerIp: number
  wsMaxPayload: number
  wsMessagesPer10s: number
  wsMaxBufferedBytes: number
  shutdownGraceMs: number
  /** Connections the kernel may hold for the node before it accepts them (capped by net.core.somaxconn). */
  listenBacklog: number
  /** Upgrade pacing (gateway/handshake-pacer.ts): event-loop ms per turn, waiting upgrades, their longest wait. */
  upgradePacing: { sliceMs: number; maxQueued: number; maxWaitMs: number }
  /** Read the client IP from X-Forwarded-For (only behind a proxy you control). */
  trustProxy: boolean
  /** Abuse limits (rate-limiter-flexible windows), see src/limits/. */
  limits: {
    loginPerAccountPerMin: number
    loginPerIpPerMin: number
    registerPerIpPerHour: number
    upgradesPerIpPerMin: number
  }
  /** node:http server limits against slow or oversized clients. */
  http: {
    headersTimeoutMs: number
    requestTimeoutMs: number
    maxHeaderBytes: number
    keepAliveTimeoutMs: number
    maxRequestsPerSocket: number
  }
}

/** Thrown when the environment holds an invalid setting; the message names each one. */
export class ConfigError extends Error {}

/** Parses the environment into a Config, or throws ConfigError listing every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const blanksRemoved = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''))
  const parsed = Env.safeParse(blanksRemoved)
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`)
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`)
  }
  const e = parsed.data
  return {
    port: e.PORT,
    host: e.HOST,
    databaseUrl: e.DATABASE_URL,
    sqliteLockWaitMs: e.SQLITE_LOCK_WAIT_MS,
    storeTimeoutMs: e.STORE_TIMEOUT_MS,
    dependencyWarnEveryMs: e.DEPENDENCY_WARN_EVERY_MS,
    sqliteCacheMb: e.SQLITE_CACHE_MB,
    sqliteMmapMb: e.SQLITE_MMAP_MB,
    redisUrl: e.REDIS_URL,
    redisPrefix: e.REDIS_PREFIX,
    busMaxAgeMs: e.BUS_MAX_AGE_MS,
    redisLimiterCooldownMs: e.REDIS_LIMITER_COOLDOWN_MS,
    nodeId: e.NODE_ID,
    bcryptCost: e.BCRYPT_COST,
    sessionTtlMs: Math.round(e.SESSION_TTL_DAYS * 86_400_000),
    duplicatePolicy: e.DUPLICATE_POLICY,
    heartbeatMs: e.HEARTBEAT_MS,
    nodeHeartbeatMs: e.NODE_HEARTBEAT_MS,
    allowedOrigins: e.ALLOWED_ORIGINS,
    signupOpen: e.SIGNUP === 'open',
    adminPassword: e.CHATGATE_ADMIN_PASSWORD,
    serviceToken: e.CHATGATE_SERVICE_TOKEN,
    metricsToken: e.METRICS_TOKEN,
    logLevel: e.LOG_LEVEL,
    hashWorkers: e.HASH_WORKERS,
    hashQueueMax: e.HASH_QUEUE_MAX,
    hashThreadNice: e.HASH_THREAD_NICE,
    maxConnectionsPerUser: e.MAX_CONNECTIONS_PER_USER,
    maxConnectionsPerIp: e.MAX_CONNECTIONS_PER_IP,
    wsMaxPayload: e.WS_MAX_PAYLOAD,
    wsMessagesPer10s: e.WS_MESSAGES_PER_10S,
    wsMaxBufferedBytes: e.WS_MAX_BUFFERED_BYTES,
    shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
    listenBacklog: e.LISTEN_BACKLOG,
    upgradePacing: { sliceMs: e.UPGRADE_SLICE_MS, maxQueued: e.UPGRADE_QUEUE_MAX, maxWaitMs: e.UPGRADE_QUEUE_WAIT_MS },
    trustProxy: e.TRUST_PROXY === 'true',
    limits: {
      loginPerAccountPerMin: e.LOGIN_ATTEMPTS_PER_ACCOUNT_PER_MIN,
      loginPerIpPerMin: e.LOGIN_ATTEMPTS_PER_IP_PER_MIN,
      registerPerIpPerHour: e.REGISTRATIONS_PER_IP_PER_HOUR,
      upgradesPerIpPerMin: e.UPGRADES_PER_IP_PER_MIN,
    },
    http: {
      headersTimeoutMs: e.HTTP_HEADERS_TIMEOUT_MS,
      requestTimeoutMs: e.HTTP_REQUEST_TIMEOUT_MS,
      maxHeaderBytes: e.HTTP_MAX_HEADER_BYTES,
      keepAliveTimeoutMs: e.HTTP_KEEPALIVE_TIMEOUT_MS,
      maxRequestsPerSocket: e.HTTP_MAX_REQUESTS_PER_SOCKET,
    },
  }
}
