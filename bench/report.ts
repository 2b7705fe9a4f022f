import { spread, type Spread } from './stats.js'

/** A target a figure is held to: on the ratio to the reference, or on the absolute value. */
export interface Target {
  on: 'ratio' | 'value'
  op: '>=' | '<=' | '<'
  limit: number
  /**
   * Judged on the worst repetition instead of the median (a value target only): for guarantees
   * every repetition must keep, such as every client back within the bound.
   */
  worst?: boolean
}

/** One line of the results table. */
export interface Row {
  scenario: string
  metric: string
  /** chatgate's figure over the repetitions (null when it could not be measured). */
  value: Spread | null
  /** What the ratio is taken against: a reference server, or a figure derived in the same run. */
  reference?: { label: string; value: Spread | null }
  target?: Target
  /** Decimals shown for the figures. */
  digits?: number
  /** Why a figure is missing, or a remark on how to read it. */
  note?: string
}

/** chatgate ÷ reference, of the medians. */
export function ratioOf(row: Row): number | null {
  const a = row.value?.median
  const b = row.reference?.value?.median
  if (a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0) return null
  return a / b
}

/** true/false when the target applies and both sides were measured; null otherwise. */
export function meetsTarget(row: Row): boolean | null {
  if (!row.target) return null
  const { op, limit, worst } = row.target
  const v = row.value
  const x = row.target.on === 'ratio' ? ratioOf(row) : !v ? null : worst ? (op === '>=' ? v.min : v.max) : v.median
  if (x === null || !Number.isFinite(x)) return null
  return op === '>=' ? x >= limit : op === '<=' ? x <= limit : x < limit
}

const fmt = (x: number, digits: number) =>
  Number.isFinite(x) ? x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : 'n/a'

/** "median (min–max)", or "n/a". */
export function formatSpread(s: Spread | null | undefined, digits = 0): string {
  if (!s || !Number.isFinite(s.median)) return 'n/a'
  if (s.reps.length <= 1 || s.min === s.max) return fmt(s.median, digits)
  return `${fmt(s.median, digits)} (${fmt(s.min, digits)}–${fmt(s.max, digits)})`
}

function formatTarget(t: Target | undefined): string {
  if (!t) return '–'
  const op = t.op === '>=' ? '≥' : t.op === '<=' ? '≤' : '<'
  return t.on === 'ratio' ? `${op} ${t.limit}×` : `${op} ${t.limit}${t.worst ? ' (every repetition)' : ''}`
}

/** The table as Markdown: one line per figure with its reference, ratio, target and verdict; notes as footnotes below. */
export function renderTable(rows: Row[]): string {
  const head = ['scenario', 'metric', 'chatgate', 'reference', 'ratio', 'target', 'verdict']
  const notes: string[] = []
  const mark = (note: string | undefined) => {
    if (!note) return ''
    const i = notes.indexOf(note)
    return ` [${(i >= 0 ? i : notes.push(note) - 1) + 1}]`
  }
  const lines = rows.map((r) => {
    const digits = r.digits ?? 0
    const ratio = ratioOf(r)
    const verdict = meetsTarget(r)
    const ref = r.reference ? `${r.reference.label}: ${formatSpread(r.reference.value, digits)}` : '–'
    return [
      r.scenario,
      r.metric,
      formatSpread(r.value, digits) + mark(r.note),
      ref,
      ratio === null ? '–' : `${ratio.toFixed(2)}×`,
      formatTarget(r.target),
      verdict === null ? (r.target ? 'not measured' : '–') : verdict ? 'ok' : '**MISS**',
    ]
  })
  const esc = (c: string) => c.replace(/\|/g, '\\|').replace(/\n/g, ' ')
  const table = [head, head.map(() => '---'), ...lines].map((cells) => `| ${cells.map(esc).join(' | ')} |`).join('\n')
  return notes.length ? `${table}\n\n${notes.map((n, i) => `[${i + 1}] ${n}`).join('  \n')}` : table
}

/** A Spread from repetitions, skipping failed (NaN) ones; null when none succeeded. */
export function spreadOrNull(values: number[]): Spread | null {
  const ok = values.filter((v) => Number.isFinite(v))
  return ok.length ? spread(ok) : null
}
