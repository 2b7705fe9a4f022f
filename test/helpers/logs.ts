import { Writable } from 'node:stream'
import { createLogger } from '../../src/log.js'

/** A real pino logger whose lines a test can read back, parsed. */
export function captureLogs(level = 'debug') {
  const lines: Record<string, any>[] = []
  const sink = new Writable({
    write(chunk, _enc, cb) {
      for (const line of String(chunk).split('\n')) if (line.trim()) lines.push(JSON.parse(line))
      cb()
    },
  })
  return { log: createLogger(level, sink), lines }
}
