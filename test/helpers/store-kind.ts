import type { Callback, Test } from 'uvu'

/** Which store startServer uses: SQLite unless CHATGATE_TEST_STORE=postgres (the services run). */
export const testStoreKind: 'sqlite' | 'postgres' = process.env.CHATGATE_TEST_STORE === 'postgres' ? 'postgres' : 'sqlite'

/**
 * For the few tests that are about SQLite itself (file bytes, WAL, PRAGMA): under SQLite returns a
 * function that registers the test on `suite`; under PostgreSQL one that skips it and prints why.
 * Prefer store-neutral tests; use this only when the subject is the SQLite file.
 */
export function sqliteOnly<T>(suite: Test<T>, reason: string): (name: string, fn: Callback<T>) => void {
  if (testStoreKind === 'sqlite') return (name, fn) => suite(name, fn)
  return (name) => {
    process.stdout.write(`\n  skipped under PostgreSQL: ${name} (${reason})\n`)
    suite.skip(name)
  }
}
