/** How long to wait before reconnect attempt `attempt` (0-based): full jitter, `random() * min(cap, base * 2^attempt)`. */
export const fullJitterDelay = (attempt: number, baseMs: number, capMs: number, random: () => number): number =>
  random() * Math.min(capMs, baseMs * 2 ** attempt)
