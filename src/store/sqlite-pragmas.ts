import type Database from 'better-sqlite3'

/**
 * Page cache of the store's connection, MiB (SQLite's default is 2 MiB). A 1M-session table with
 * its indexes is hundreds of MB and the handshake's token lookups land on random pages: a 2 MiB
 * cache turns most of them into reads. The cache grows only with the pages actually read.
 * ([0340](../../docs/decisions/0340-sqlite-page-cache-and-mmap.md))
 */
export const SQLITE_CACHE_MB = 64
/** How much of the file is read through a memory map instead of read() copies, MiB (0: off). */
export const SQLITE_MMAP_MB = 256

/** Sets the read-path pragmas of an open connection. */
export function applyReadPragmas(db: Database.Database, sizes: { cacheMb: number; mmapMb: number }): void {
  db.pragma(`cache_size = -${sizes.cacheMb * 1024}`)
  db.pragma(`mmap_size = ${sizes.mmapMb * 1024 * 1024}`)
}
