// Preloaded into a test node (`node --import <this file> …`): when LOADED_PACKAGES_FILE is set,
// the main thread writes there, on exit, the path of every CommonJS file it loaded (require's
// cache, which also holds the CommonJS packages an ES module imported: pg, ioredis, better-sqlite3).
// Plain JS: worker threads inherit --import and must not need a TypeScript loader for it.
import { writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { isMainThread } from 'node:worker_threads'

const file = process.env.LOADED_PACKAGES_FILE
if (isMainThread && file) {
  const cache = createRequire(import.meta.url).cache
  process.on('exit', () => writeFileSync(file, JSON.stringify(Object.keys(cache))))
}
