import type { Page } from './types.js'

/** Cuts a `limit + 1` result to one page and derives the cursor from its last row. */
export function paginate<T extends { id: string }>(rows: T[], limit: number, at: (row: T) => number): Page<T> {
  if (rows.length <= limit) return { rows, next: null }
  const page = rows.slice(0, limit)
  const last = page[page.length - 1]!
  return { rows: page, next: { at: at(last), id: last.id } }
}
