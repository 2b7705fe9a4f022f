/** Small statistics over samples: percentiles of latencies and median/spread of repetitions. */

/** The p-th percentile (0–100) by nearest rank; NaN for no samples. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN
  const sorted = [...samples].sort((a, b) => a - b)
  const rank = Math.ceil((p / 100) * sorted.length)
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!
}

/** A figure measured in several repetitions: the median and the range. */
export interface Spread {
  median: number
  min: number
  max: number
  /** Each repetition's value, in run order. */
  reps: number[]
}

/** Median and min–max of repetitions (the median of an even count is the mean of the middle two). */
export function spread(reps: readonly number[]): Spread {
  if (reps.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN, reps: [] }
  const sorted = [...reps].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
  return { median, min: sorted[0]!, max: sorted[sorted.length - 1]!, reps: [...reps] }
}

/** Latency summary of one repetition, in milliseconds. */
export interface LatencySummary {
  count: number
  p50: number
  p99: number
  max: number
}

/** Summarises latencies (ms). */
export function summarizeLatencies(samples: readonly number[]): LatencySummary {
  return {
    count: samples.length,
    p50: percentile(samples, 50),
    p99: percentile(samples, 99),
    max: samples.length ? samples.reduce((a, b) => Math.max(a, b), -Infinity) : Number.NaN,
  }
}

/** Least-squares line through the points (at least two distinct x). */
export function fitLine(points: readonly { x: number; y: number }[]): { slope: number; intercept: number } {
  const n = points.length
  const mx = points.reduce((a, p) => a + p.x, 0) / n
  const my = points.reduce((a, p) => a + p.y, 0) / n
  let sxy = 0
  let sxx = 0
  for (const p of points) {
    sxy += (p.x - mx) * (p.y - my)
    sxx += (p.x - mx) ** 2
  }
  const slope = sxx === 0 ? Number.NaN : sxy / sxx
  return { slope, intercept: my - slope * mx }
}
