import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { createApp, type App, type AppDeps } from '../../src/app.js'
import { loadConfig, type Config } from '../../src/config.js'
import { createLogger } from '../../src/log.js'
import { openStore } from '../../src/store/open.js'

/** A real chatgate on 127.0.0.1:<free port> over a fresh SQLite file in a temp dir. */
export interface TestServer {
  app: App
  config: Config
  url: string
  port: number
  dir: string
  dbPath: string
  /** Every log line the server wrote, as raw JSON text. */
  logs: string[]
  close(): Promise<void>
}

/** Where the server lives (`dir`: reuse a folder, kept on close) and deps to swap in (a spy hasher, a fake clock). */
export interface StartOptions {
  dir?: string
  deps?: Pick<AppDeps, 'hasher' | 'now'>
}

/**
 * Starts a server. `env` overrides config variables (strings, as in the environment); bcrypt
 * cost defaults to 4 here for speed unless the test sets BCRYPT_COST.
 */
export async function startServer(env: Record<string, string> = {}, options: StartOptions = {}): Promise<TestServer> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'chatgate-test-'))
  const dbPath = join(dir, 'chatgate.db')
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: dbPath,
    BCRYPT_COST: '4',
    LOG_LEVEL: 'debug',
    CHATGATE_ADMIN_PASSWORD: 'admin-password-123',
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
  const store = await openStore(config.databaseUrl)
  const app = createApp({ config, store, log, ...options.deps })
  const { ensureAdmin } = await import('../../src/bootstrap-admin.js')
  await ensureAdmin({ store, sessions: app.sessions, log }, config.adminPassword)
  const { port } = await app.listen()
  return {
    app,
    config,
    url: `http://127.0.0.1:${port}`,
    port,
    dir,
    dbPath,
    logs,
    async close() {
      await app.shutdown()
      if (!options.dir) rmSync(dir, { recursive: true, force: true })
    },
  }
}
