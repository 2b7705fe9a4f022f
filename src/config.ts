import { z } from 'zod'

/** Every setting chatgate reads, with its default, validated once at start. */
const Env = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().default('0.0.0.0'),
  DATABASE_URL: z.string().min(1).default('./data/chatgate.db'),
  REDIS_URL: z.string().url().optional(),
  REDIS_PREFIX: z.string().regex(/^[A-Za-z0-9:_.-]{1,64}$/, 'REDIS_PREFIX: 1-64 characters of A-Z a-z 0-9 : _ . -').default('chatgate:'),
  NODE_ID: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/).optional(),
  BCRYPT_COST: z.coerce.number().int().min(4).max(15).default(10),
  SESSION_TTL_DAYS: z.coerce.number().positive().max(3650).default(30),
  DUPLICATE_POLICY: z.enum(['replace', 'reject', 'revoke']).default('replace'),
  HEARTBEAT_MS: z.coerce.number().int().min(100).max(600_000).default(30_000),
  ALLOWED_ORIGINS: z.string().optional(),
  SIGNUP: z.enum(['open', 'closed']).default('open'),
  CHATGATE_ADMIN_PASSWORD: z.string().optional(),
  CHATGATE_SERVICE_TOKEN: z.string().min(32, 'CHATGATE_SERVICE_TOKEN must be at least 32 characters').optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  HASH_WORKERS: z.coerce.number().int().min(1).max(64).optional(),
  HASH_QUEUE_MAX: z.coerce.number().int().min(1).max(100_000).default(1000),
  MAX_CONNECTIONS_PER_USER: z.coerce.number().int().min(1).max(100_000).default(20),
  MAX_CONNECTIONS_PER_IP: z.coerce.number().int().min(1).max(1_000_000).default(1000),
  WS_MAX_PAYLOAD: z.coerce.number().int().min(1024).max(16 * 1024 * 1024).default(64 * 1024),
  WS_MESSAGES_PER_10S: z.coerce.number().int().min(1).max(100_000).default(100),
  WS_MAX_BUFFERED_BYTES: z.coerce.number().int().min(1024).default(4 * 1024 * 1024),
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).max(600_000).default(10_000),
  TRUST_PROXY: z.enum(['true', 'false']).default('false'),
})

export type Config = {
  port: number
  host: string
  databaseUrl: string
  redisUrl: string | undefined
  /** Prefix of every Redis channel and key this deployment uses (several deployments, or tests, can share a server). */
  redisPrefix: string
  nodeId: string | undefined
  bcryptCost: number
  sessionTtlMs: number
  duplicatePolicy: 'replace' | 'reject' | 'revoke'
  heartbeatMs: number
  /** `undefined` means: same-origin browsers only; clients without Origin always pass. */
  allowedOrigins: string[] | undefined
  signupOpen: boolean
  adminPassword: string | undefined
  serviceToken: string | undefined
  logLevel: string
  hashWorkers: number | undefined
  hashQueueMax: number
  maxConnectionsPerUser: number
  maxConnectionsPerIp: number
  wsMaxPayload: number
  wsMessagesPer10s: number
  wsMaxBufferedBytes: number
  shutdownGraceMs: number
  /** Read the client IP from X-Forwarded-For (only behind a proxy you control). */
  trustProxy: boolean
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
    redisUrl: e.REDIS_URL,
    redisPrefix: e.REDIS_PREFIX,
    nodeId: e.NODE_ID,
    bcryptCost: e.BCRYPT_COST,
    sessionTtlMs: Math.round(e.SESSION_TTL_DAYS * 86_400_000),
    duplicatePolicy: e.DUPLICATE_POLICY,
    heartbeatMs: e.HEARTBEAT_MS,
    allowedOrigins: e.ALLOWED_ORIGINS?.split(',').map((o) => o.trim()).filter(Boolean),
    signupOpen: e.SIGNUP === 'open',
    adminPassword: e.CHATGATE_ADMIN_PASSWORD,
    serviceToken: e.CHATGATE_SERVICE_TOKEN,
    logLevel: e.LOG_LEVEL,
    hashWorkers: e.HASH_WORKERS,
    hashQueueMax: e.HASH_QUEUE_MAX,
    maxConnectionsPerUser: e.MAX_CONNECTIONS_PER_USER,
    maxConnectionsPerIp: e.MAX_CONNECTIONS_PER_IP,
    wsMaxPayload: e.WS_MAX_PAYLOAD,
    wsMessagesPer10s: e.WS_MESSAGES_PER_10S,
    wsMaxBufferedBytes: e.WS_MAX_BUFFERED_BYTES,
    shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
    trustProxy: e.TRUST_PROXY === 'true',
  }
}
