import { type Config, ConfigError, loadConfig } from './config.js'
import { createLogger } from './log.js'
import { startNode } from './node.js'

/** Starts one chatgate node from the environment and stops it cleanly on SIGTERM/SIGINT. */
async function main(): Promise<void> {
  let config: Config
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
  const { app, address, stop: stopNode } = await startNode(config, log)
  log.info({ event: 'listening', host: address.address, port: address.port, store: app.store.kind }, `chatgate listening on ${address.address}:${address.port}`)

  const stop = (signal: string) => {
    log.info({ event: 'signal', signal }, 'draining')
    stopNode().then(
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
