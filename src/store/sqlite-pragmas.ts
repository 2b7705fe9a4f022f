import type Database from 'better-sqlite3'

/**
 * Page cache of the store's connection, MiB. With the file memory-mapped, a page read from the
 * database needs no copy in the cache: the cache holds the pages a transaction writes and those
 * read back from the WAL before a checkpoint. A larger cache kept a private heap copy of every
 * page written since start (a connection row in six b-trees, each session whose expiry slid):
 * ~0.5 KiB per held connection at 19k. ([0357](../../docs/decisions/0357-sqlite-reads-through-the-map.md))
 */
export const SQLITE_CACHE_MB = 2
/** SQLite caps `mmap_size` here (SQLITE_MAX_MMAP_SIZE, 0x7fff0000 bytes, in whole MiB). */
export const SQLITE_MMAP_MAX_MB = 2_047
/**
 * How much of the file is read through a memory map instead of read() copies, MiB (0: off). The
 * default maps up to SQLite's own ceiling (just under 2 GiB), so the random token lookups of a
 * million-session file (567 MB) are all reads of the kernel's page cache, shared and reclaimable.
 */
export const SQLITE_MMAP_MB = SQLITE_MMAP_MAX_MB

/** Sets the read-path pragmas of an open connection. */
export function applyReadPragmas(db: Database.Database, sizes: { cacheMb: number; mmapMb: number }): void {
  db.pragma(`cache_size = -${sizes.cacheMb * 1024}`)
  db.pragma(`mmap_size = ${sizes.mmapMb * 1024 * 1024}`)
}
