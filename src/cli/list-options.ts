import { toValidUsername } from '../auth/rules.js'
import { parseLimit, type ListQuery } from '../operators/operators.js'
import { decodeCursor } from '../views.js'
import { commonOptions } from './command.js'
import { UsageError } from './errors.js'

/** `--user`, `--limit`, `--cursor`: the same filter and paging as the admin API. */
export const listOptions = {
  ...commonOptions,
  user: { type: 'string', short: 'u' },
  limit: { type: 'string' },
  cursor: { type: 'string' },
} as const

export const listHelp = `  -u, --user U  only this user's
  --limit N     rows per page (default 50, at most 200)
  --cursor C    the next page: the next_cursor of the previous --json output`

/** Reads the listing options like the API reads its query; a bad value is a usage error. */
export function readListOptions(values: Record<string, string | boolean | undefined>): ListQuery {
  const str = (name: string) => (typeof values[name] === 'string' ? (values[name] as string) : undefined)
  const limit = parseLimit(str('limit'))
  if (limit === null) throw new UsageError('--limit must be a positive integer')
  const query: ListQuery = { limit }
  const cursor = decodeCursor(str('cursor') ?? null)
  if (cursor === undefined) throw new UsageError('--cursor is not a cursor chatgate issued')
  if (cursor) query.cursor = cursor
  const user = str('user')
  if (user !== undefined) {
    const username = toValidUsername(user)
    if (username === null) throw new UsageError(`--user: "${user}" is not a valid username`)
    query.username = username
  }
  return query
}

/** The hint under a table that was cut at --limit. */
export const moreRowsHint = (cursor: string) => `(more rows: add --cursor ${cursor})\n`
