/** What the CLI prints: aligned tables for people, JSON for scripts. Client-supplied text is made inert. */

// C0/C1 controls (ANSI escapes start with ESC or CSI) and bidi overrides: a device name chosen by a
// client must not be able to recolour, move or reorder an operator's terminal.
const UNSAFE = /[\p{Cc}\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu

/** Replaces control and bidi characters with `?`. */
export const inert = (s: string): string => s.replace(UNSAFE, '?')

/** Shortens to `max` characters, ending with `…` when cut. */
export const clip = (s: string, max: number): string => (s.length > max ? `${s.slice(0, max - 1)}…` : s)

/** `2026-01-31 12:00:00Z` from an ISO timestamp: readable, still UTC, still sortable. */
export const shortTime = (iso: string | null): string => (iso ? `${iso.slice(0, 10)} ${iso.slice(11, 19)}Z` : '-')

export interface Column {
  header: string
  /** Longest cell before it is clipped. */
  max?: number
}

/** Left-aligned columns separated by two spaces, headers first; every cell made inert and clipped. */
export function renderTable(columns: Column[], rows: string[][]): string {
  const cells = rows.map((row) => row.map((cell, i) => clip(inert(cell), columns[i]?.max ?? 64)))
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((r) => r[i]?.length ?? 0)))
  const line = (values: string[]) =>
    values
      .map((v, i) => (i === values.length - 1 ? v : v.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd()
  return `${[line(columns.map((c) => c.header)), ...cells.map(line)].join('\n')}\n`
}

/** Pretty JSON with a final newline (stable for scripts: one document per call). */
export const renderJson = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`
