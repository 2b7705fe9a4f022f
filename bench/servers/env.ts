/** Where a reference server listens and what it reads, from the same variables chatgate uses. */
export interface ReferenceEnv {
  port: number
  host: string
  databaseUrl: string
}

/** Reads PORT, HOST and DATABASE_URL; a missing PORT is an error (the runner always sets it). */
export function readReferenceEnv(env: NodeJS.ProcessEnv = process.env): ReferenceEnv {
  const port = Number(env.PORT)
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error('PORT must be set to a port number')
  return { port, host: env.HOST || '127.0.0.1', databaseUrl: env.DATABASE_URL ?? '' }
}

/** Exits 0 on SIGTERM/SIGINT so that `--cpu-prof` writes its profile. */
export function exitOnSignals(close: () => void): void {
  const stop = () => {
    close()
    process.exit(0)
  }
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
}
