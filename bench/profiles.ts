/** Counts and durations of a run: `quick` (npm run bench) and `full` (npm run bench -- --full). */
export interface Profile {
  name: 'quick' | 'full' | 'tiny'
  /** bcrypt cost of the fixture accounts (chatgate's default is 10). */
  bcryptCost: number
  /** Repetitions of every measurement; the table shows their median and min–max. */
  reps: number
  /** `reps`: scenario 1's own repetition count (its ratios carry the issue's tightest targets, so a full run takes more). */
  handshake: { reps: number; concurrency: number; warmupMs: number; durationMs: number; maxCount: number; tokenPool: number; libraryCheck: number }
  /**
   * Held connections: sizes (-1: the most the open-files limit allows), each held `holdMs` with
   * the default heartbeat by a fleet of `processes` load generators; /healthz probed every
   * `probeEveryMs`. The largest size, which carries the targets, is held `largestReps` times per
   * server (bare ws alone read 2.7–4.3 KiB per connection at 19k in six single runs of one hour).
   */
  hold: { sizes: number[]; largestReps: number; holdMs: number; rampConcurrency: number; warmupCycles: number; processes: number; probeEveryMs: number }
  /**
   * Reconnect storm: clients, fleet size, how long the runner waits for them to come back, and how
   * many storms per retry rule (one storm's /healthz p99 rests on a few hundred probes; the same
   * server read 20–75 ms in three storms in a row).
   */
  storm: { clients: number; processes: number; rampConcurrency: number; timeoutMs: number; probeEveryMs: number; reps: number }
  /** Admin device listing over `connectionRows` rows inserted directly. */
  admin: { connectionRows: number; samples: number }
  login: { concurrency: number; durationMs: number; idleMs: number; healthzEveryMs: number; accounts: number }
  revoke: { samples: number; warmup: number }
  rows: { sizes: number[]; tokens: number; samples: number }
}

export const quick: Profile = {
  name: 'quick',
  bcryptCost: 10,
  reps: 3,
  handshake: { reps: 3, concurrency: 32, warmupMs: 1_000, durationMs: 3_000, maxCount: 100_000, tokenPool: 2_000, libraryCheck: 20 },
  hold: { sizes: [500, 2_000, 4_000], largestReps: 1, holdMs: 5_000, rampConcurrency: 64, warmupCycles: 300, processes: 2, probeEveryMs: 20 },
  storm: { clients: 2_000, processes: 2, rampConcurrency: 64, timeoutMs: 45_000, probeEveryMs: 20, reps: 1 },
  admin: { connectionRows: 20_000, samples: 200 },
  login: { concurrency: 50, durationMs: 4_000, idleMs: 1_500, healthzEveryMs: 10, accounts: 500 },
  revoke: { samples: 300, warmup: 20 },
  rows: { sizes: [10_000, 100_000], tokens: 1_000, samples: 300 },
}

export const full: Profile = {
  name: 'full',
  bcryptCost: 10,
  reps: 3,
  handshake: { reps: 5, concurrency: 32, warmupMs: 3_000, durationMs: 10_000, maxCount: 1_000_000, tokenPool: 5_000, libraryCheck: 200 },
  hold: { sizes: [2_000, 8_000, -1], largestReps: 3, holdMs: 60_000, rampConcurrency: 128, warmupCycles: 1_000, processes: 4, probeEveryMs: 20 },
  storm: { clients: 15_000, processes: 4, rampConcurrency: 128, timeoutMs: 90_000, probeEveryMs: 20, reps: 3 },
  admin: { connectionRows: 100_000, samples: 1_000 },
  login: { concurrency: 50, durationMs: 10_000, idleMs: 5_000, healthzEveryMs: 10, accounts: 2_000 },
  revoke: { samples: 1_000, warmup: 50 },
  rows: { sizes: [10_000, 1_000_000], tokens: 2_000, samples: 5_000 },
}

/** A smoke run of every scenario in seconds (the runner's own test); its figures mean nothing. */
export const tiny: Profile = {
  name: 'tiny',
  bcryptCost: 4,
  reps: 1,
  handshake: { reps: 1, concurrency: 4, warmupMs: 100, durationMs: 300, maxCount: 300, tokenPool: 50, libraryCheck: 3 },
  hold: { sizes: [50, 100], largestReps: 1, holdMs: 500, rampConcurrency: 16, warmupCycles: 20, processes: 2, probeEveryMs: 20 },
  storm: { clients: 50, processes: 2, rampConcurrency: 16, timeoutMs: 30_000, probeEveryMs: 20, reps: 1 },
  admin: { connectionRows: 500, samples: 20 },
  login: { concurrency: 5, durationMs: 500, idleMs: 200, healthzEveryMs: 10, accounts: 20 },
  revoke: { samples: 10, warmup: 2 },
  rows: { sizes: [1_000, 2_000], tokens: 100, samples: 50 },
}
