import { chmodSync, closeSync, openSync } from 'node:fs'

/** Owner read and write only: the files hold every password hash and session token hash. */
const DATABASE_FILE_MODE = 0o600

/** The files SQLite keeps for a database in WAL mode. */
const databaseFiles = (path: string) => [path, `${path}-wal`, `${path}-shm`]

/**
 * Makes the database, its -wal and its -shm owner-only, whatever the umask: creates a missing
 * database file 0600 before SQLite opens it (SQLite gives the -wal and -shm it creates the main
 * file's mode) and tightens files an earlier version or another tool left looser.
 */
export function restrictDatabaseFiles(path: string): void {
  try {
    closeSync(openSync(path, 'wx', DATABASE_FILE_MODE))
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e
  }
  for (const file of databaseFiles(path)) {
    try {
      chmodSync(file, DATABASE_FILE_MODE)
    } catch (e) {
      // Absent (no WAL yet), or owned by another account whose owner chose its mode.
      const code = (e as NodeJS.ErrnoException).code
      if (code !== 'ENOENT' && code !== 'EPERM') throw e
    }
  }
}
