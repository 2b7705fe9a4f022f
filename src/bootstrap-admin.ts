import { nanoid } from 'nanoid'
import type { Logger } from 'pino'
import type { AccountService } from './accounts/accounts.js'
import { ApiError } from './errors.js'
import type { Store } from './store/types.js'

/**
 * On a database with no admin, creates `admin` with CHATGATE_ADMIN_PASSWORD or a random password,
 * which is printed once to stderr (never into the structured log). Returns the password it printed.
 */
export async function ensureAdmin(
  deps: { store: Store; accounts: AccountService; log: Logger },
  configured: string | undefined,
  print: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): Promise<string | null> {
  if (await deps.store.hasAdmin()) return null
  const password = configured ?? nanoid(24)
  try {
    await deps.accounts.createUser({ username: 'admin', password, role: 'admin' })
  } catch (e) {
    if (e instanceof ApiError && e.code === 'USERNAME_TAKEN') {
      // Nodes starting together on one database race here: the loser finds the winner's admin.
      if (await deps.store.hasAdmin()) return null
      deps.log.warn('no admin account exists and the username "admin" is taken by a user; create one with the CLI')
      return null
    }
    throw e
  }
  deps.log.info({ event: 'admin_created', username: 'admin' }, 'first admin account created')
  if (!configured)
    print(`\n  chatgate: created admin account "admin" with password: ${password}\n  (shown once; change it with: npx chatgate user passwd admin)\n`)
  return configured ? null : password
}
