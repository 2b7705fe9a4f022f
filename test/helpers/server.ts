import { createHash, randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { Writable } from 'node:stream'
import type { App } from '../../src/app.js'
import { loadConfig, type Config } from '../../src/config.js'
import { createLogger } from '../../src/log.js'
import { startNode, type NodeOverrides } from '../../src/node.js'
import { dropSchema, newSchemaName, pgUrlFor, TEST_SCHEMA_PREFIX } from './services.js'
import { testStoreKind } from './store-kind.js'

/**
 * A real chatgate on 127.0.0.1:<free port> over a fresh SQLite file in a temp dir, or, when
 * CHATGATE_TEST_STORE=postgres, over a fresh PostgreSQL schema (dropped on close).
 */
export interface TestServer {
  app: App
  config: Config
  url: string
  port: number
  dir: string
  /** The SQLite file (exists only under the SQLite store). */
  dbPath: string
  /** What DATABASE_URL the server uses: pass it on to child processes (CLI, other nodes). */
  databaseUrl: string
  storeKind: 'sqlite' | 'postgres'
  /** Every log line the server wrote, as raw JSON text. */
  logs: string[]
  close(): Promise<void>
}

/** Where the server lives (`dir`: reuse a folder, kept on close) and deps to swap in (a spy hasher, a fake clock). */
export interface StartOptions {
  dir?: string
  deps?: NodeOverrides
}

/**
 * Starts a server. `env` overrides config variables (strings, as in the environment); bcrypt
 * cost defaults to 4 here for speed unless the test sets BCRYPT_COST. `deps` replaces parts of
 * createApp's dependencies (a fake deliverer, a hasher spy); the bus comes from config (REDIS_URL).
 */
export async function startServer(env: Record<string, string> = {}, options: StartOptions = {}): Promise<TestServer> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'chatgate-test-'))
  const dbPath = join(dir, 'chatgate.db')
  const schema = testStoreKind === 'postgres' && env.DATABASE_URL === undefined ? schemaFor(options.dir) : undefined
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: schema ? pgUrlFor(schema) : dbPath,
    BCRYPT_COST: '4',
    LOG_LEVEL: 'debug',
    CHATGATE_ADMIN_PASSWORD: 'admin-password-123',
    // Tests share 127.0.0.1: abuse limits are lifted unless a test sets them (e.g. test/limits-rates, test/gateway-limits, test/security-burst).
    LOGIN_ATTEMPTS_PER_ACCOUNT_PER_MIN: '1000000',
    LOGIN_ATTEMPTS_PER_IP_PER_MIN: '1000000',
    REGISTRATIONS_PER_IP_PER_HOUR: '1000000',
    UPGRADES_PER_IP_PER_MIN: '1000000',
    // Many servers share one PostgreSQL on a loaded machine: a slow query is not an outage here
    // (test/services/faults-store.test.ts runs with the default bound).
    STORE_TIMEOUT_MS: '10000',
    // Each test server is its own gateway node (several run at once, and a restart may reuse an id).
    NODE_ID: `test-${randomUUID()}`,
    ...env,
  })
  const logs: string[] = []
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logs.push(String(chunk))
      cb()
    },
  })
  const log = createLogger(config.logLevel, sink)
  const node = await startNode(config, log, options.deps)
  const { app, address } = node
  const port = address.port
  return {
    app,
    config,
    url: `http://127.0.0.1:${port}`,
    port,
    dir,
    dbPath,
    databaseUrl: config.databaseUrl,
    storeKind: app.store.kind,
    logs,
    async close() {
      await node.stop()
      if (!options.dir) rmSync(dir, { recursive: true, force: true })
      if (schema && !options.dir) await dropSchema(schema)
    },
  }
}

/** Schemas kept for a restart on the same `dir`; dropped when the test process is done. */
const keptSchemas = new Set<string>()

/**
 * A fresh schema per server; a caller-given `dir` maps to one stable schema, so that restarting
 * "on the same file" restarts on the same data under PostgreSQL too.
 */
function schemaFor(dir: string | undefined): string {
  if (dir === undefined) return newSchemaName()
  const schema = `${TEST_SCHEMA_PREFIX}d${createHash('sha256').update(resolve(dir)).digest('hex').slice(0, 12)}`
  if (keptSchemas.size === 0) process.once('beforeExit', () => void Promise.all([...keptSchemas].map((s) => dropSchema(s).catch(() => undefined))))
  keptSchemas.add(schema)
  return schema
}
