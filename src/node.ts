import type { AddressInfo } from 'node:net'
import type { Logger } from 'pino'
import { createApp, type App, type AppDeps } from './app.js'
import { ensureAdmin } from './bootstrap-admin.js'
import { openBus } from './cluster/open-bus.js'
import type { Config } from './config.js'
import { DependencyHealth } from './health/dependency-health.js'
import { openLimiterStore } from './limits/open.js'
import { openStore } from './store/open.js'

/** A running node: the app, where it listens, and how to stop everything it opened. */
export interface RunningNode {
  app: App
  address: AddressInfo
  /** Drains the app (which closes store and bus), then the rate-limit store. */
  stop(): Promise<void>
}

/** Parts a caller (a test) supplies instead of the ones opened from config. */
export type NodeOverrides = Partial<Omit<AppDeps, 'config' | 'store' | 'log'>>

/**
 * Opens what one node runs on from config (store, bus, rate-limit store), builds the app, makes
 * sure an admin exists and listens. Whatever was opened is closed again if a later step fails.
 */
export async function startNode(config: Config, log: Logger, overrides: NodeOverrides = {}): Promise<RunningNode> {
  const storeHealth = new DependencyHealth({ name: 'store', log, warnEveryMs: config.dependencyWarnEveryMs })
  const store = await openStore(config.databaseUrl, {
    // An idle connection cut (the server stopped) is one more failure of the outage, not a line of its own.
    onError: (err) => storeHealth.reportFailure(err),
    sqliteLockWaitMs: config.sqliteLockWaitMs,
    postgresTimeoutMs: config.storeTimeoutMs,
    sqliteCacheMb: config.sqliteCacheMb,
    sqliteMmapMb: config.sqliteMmapMb,
  })
  let bus: AppDeps['bus']
  let limiter: Awaited<ReturnType<typeof openLimiterStore>> | null = null
  let app: App | undefined
  try {
    bus = overrides.bus ?? (await openBus(config, log))
    if (!overrides.limiterBackend) limiter = await openLimiterStore(config, log)
    app = createApp({ ...overrides, config, store, storeHealth, log, bus, limiterBackend: overrides.limiterBackend ?? limiter!.backend })
    await ensureAdmin({ store, accounts: app.accounts, log }, config.adminPassword)
    const address = await app.listen()
    const started = app
    return {
      app: started,
      address,
      async stop() {
        await started.shutdown()
        await limiter?.close()
      },
    }
  } catch (e) {
    if (app) await app.shutdown()
    else {
      await bus?.close()
      await store.close()
    }
    await limiter?.close()
    throw e
  }
}
