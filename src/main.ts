import { createApp } from './app.js'
import { ensureAdmin } from './bootstrap-admin.js'
import { openBus } from './bus/open.js'
import { ConfigError, loadConfig } from './config.js'
import { openLimiterStore } from './limits/open.js'
import { createLogger } from './log.js'
import { openStore } from './store/open.js'

/** Starts one chatgate node from the environment and stops it cleanly on SIGTERM/SIGINT. */
async function main(): Promise<void> {
  let config
  try {
    config = loadConfig()
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`chatgate: ${e.message}\n`)
      process.exit(2)
    }
    throw e
  }
  const log = createLogger(config.logLevel)
  const store = await openStore(config.databaseUrl, { onError: (err) => log.error({ err }, 'database connection error') })
  const bus = await openBus(config, log).catch(async (e) => {
    await store.close()
    throw e
  })
  const limiter = await openLimiterStore(config, log).catch(async (e) => {
    await bus.close()
    await store.close()
    throw e
  })
  const app = createApp({ config, store, log, bus, limiterBackend: limiter.backend })
  await ensureAdmin({ store, sessions: app.sessions, log }, config.adminPassword)
  const address = await app.listen()
  log.info({ event: 'listening', host: address.address, port: address.port, store: store.kind }, `chatgate listening on ${address.address}:${address.port}`)

  const stop = (signal: string) => {
    log.info({ event: 'signal', signal }, 'draining')
    app
      .shutdown()
      .then(() => limiter.close())
      .then(
        () => process.exit(0),
        (err) => {
          log.error({ err }, 'shutdown failed')
          process.exit(1)
        },
      )
  }
  process.once('SIGTERM', () => stop('SIGTERM'))
  process.once('SIGINT', () => stop('SIGINT'))
}

main().catch((err) => {
  process.stderr.write(`chatgate: failed to start: ${err instanceof Error ? err.stack : String(err)}\n`)
  process.exit(1)
})
