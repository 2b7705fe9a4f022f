/** A clock the test moves by hand, passed to createApp as `now`. */
export interface FakeClock {
  now: () => number
  advance(ms: number): void
}

/** Starts at `start` (default: the real time, so stored dates look sane) and moves only on advance(). */
export function createFakeClock(start = Date.now()): FakeClock {
  let t = start
  return {
    now: () => t,
    advance(ms) {
      t += ms
    },
  }
}
