import { createRequire } from 'node:module'
import { pino, type Logger } from 'pino'

/** Paths pino blanks in every log line, whatever a caller passes by mistake. */
const REDACT = [
  'token',
  'password',
  'passwordHash',
  'password_hash',
  'session_token',
  'tokenHash',
  'req.headers.token',
  'req.headers.authorization',
  'req.headers["sec-websocket-protocol"]',
  'headers.token',
  'headers.authorization',
  'headers["sec-websocket-protocol"]',
  '*.token',
  '*.password',
  '*.passwordHash',
  '*.tokenHash',
]

/** JSON logs to stdout (pretty on a terminal when pino-pretty is installed); secrets are redacted by path. */
export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  const options = { level, redact: { paths: REDACT, censor: '[redacted]' }, base: { pid: process.pid } }
  if (destination) return pino(options, destination)
  if (process.stdout.isTTY && canPrettyPrint()) return pino({ ...options, transport: { target: 'pino-pretty', options: { colorize: true } } })
  return pino(options)
}

/** pino-pretty is a dev dependency: an install without them (`npm prune --omit=dev`) logs plain JSON even on a terminal. */
function canPrettyPrint(): boolean {
  try {
    createRequire(import.meta.url).resolve('pino-pretty')
    return true
  } catch {
    return false
  }
}
