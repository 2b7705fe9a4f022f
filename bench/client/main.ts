/**
 * The load generator: a separate process (pinned to its own core by the runner) that takes jobs
 * over IPC, runs them, and answers `{id, result}` or `{id, error}`. Held connections survive
 * between jobs.
 */
import bcrypt from 'bcryptjs'
import { spread } from '../stats.js'
import { runHandshakes, type HandshakeJob } from './handshake.js'
import { closeHeld, countDropped, openHeld, type HoldOpenJob } from './hold.js'
import { runLogins, type LoginJob } from './login.js'
import { runRevokes, type RevokeJob } from './revoke.js'
import { markStorm, startStorm, stormClosed, stormStatus, stopStorm, type StormStartJob } from './storm.js'

export interface BcryptJob {
  type: 'bcrypt'
  password: string
  hash: string
  times: number
}

export type ClientJob =
  | HandshakeJob
  | HoldOpenJob
  | LoginJob
  | RevokeJob
  | BcryptJob
  | StormStartJob
  | { type: 'hold-close' }
  | { type: 'hold-dropped' }
  | { type: 'storm-mark'; at: number }
  | { type: 'storm-status' }
  | { type: 'storm-stop' }

/** Median milliseconds of one bcryptjs compare on this core (what one login costs a worker). */
function timeCompare(job: BcryptJob): number {
  const ms: number[] = []
  for (let i = 0; i < job.times; i++) {
    const t = performance.now()
    if (!bcrypt.compareSync(job.password, job.hash)) throw new Error('fixture hash does not match the fixture password')
    ms.push(performance.now() - t)
  }
  return spread(ms).median
}

async function run(job: ClientJob): Promise<unknown> {
  switch (job.type) {
    case 'handshake':
      return runHandshakes(job)
    case 'hold-open':
      return openHeld(job)
    case 'hold-close':
      return closeHeld()
    case 'hold-dropped':
      return countDropped()
    case 'login':
      return runLogins(job)
    case 'revoke':
      return runRevokes(job)
    case 'bcrypt':
      return timeCompare(job)
    case 'storm-start':
      return startStorm(job)
    case 'storm-mark':
      return markStorm(job.at)
    case 'storm-status':
      return stormStatus()
    case 'storm-stop':
      stopStorm()
      return stormClosed()
  }
}

if (!process.send) throw new Error('bench/client/main.ts runs as a child of bench/run.ts (it needs an IPC channel)')
process.on('message', (msg: { id: number; job: ClientJob }) => {
  run(msg.job).then(
    (result) => process.send!({ id: msg.id, result }),
    (err: unknown) => process.send!({ id: msg.id, error: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
  )
})
process.on('disconnect', () => process.exit(0))
