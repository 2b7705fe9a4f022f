import { dial, type ClientCredential, type Conn, type TargetSpec } from './dial.js'

export interface HoldOpenJob {
  type: 'hold-open'
  target: TargetSpec
  /** One connection per credential. */
  credentials: ClientCredential[]
  /** Dials in flight at once while ramping up. */
  concurrency: number
  /** Source addresses to dial from, round-robin (wire client); the default source otherwise. */
  localAddresses?: string[]
}

export interface HoldResult {
  held: number
  failed: number
  firstError: string | null
  elapsedMs: number
}

/** Attempts per connection while ramping up: a dial that timed out on a loaded machine is not a lost connection. */
const OPEN_ATTEMPTS = 3

async function dialRetrying(target: TargetSpec, cred: ClientCredential): Promise<Conn> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await dial(target, cred)
    } catch (e) {
      if (attempt >= OPEN_ATTEMPTS) throw e
    }
  }
}

/** Connections this client process keeps open between jobs (the memory scenario). */
const held: { conn: Conn; closedEarly: boolean }[] = []

/** Opens one connection per credential and keeps them; resolves when every welcome arrived. */
export async function openHeld(job: HoldOpenJob): Promise<HoldResult> {
  const t0 = performance.now()
  let next = 0
  let failed = 0
  let firstError: string | null = null
  async function worker(): Promise<void> {
    while (next < job.credentials.length && failed < 50) {
      const i = next++
      const cred = job.credentials[i]!
      const from = job.localAddresses?.length ? job.localAddresses[i % job.localAddresses.length] : undefined
      try {
        const entry = { conn: await dialRetrying(from ? { ...job.target, localAddress: from } : job.target, cred), closedEarly: false }
        void entry.conn.closed.then(() => (entry.closedEarly = true))
        held.push(entry)
      } catch (e) {
        failed++
        firstError ??= e instanceof Error ? e.message : String(e)
      }
    }
  }
  await Promise.all(Array.from({ length: job.concurrency }, worker))
  return { held: held.length, failed, firstError, elapsedMs: performance.now() - t0 }
}

/** How many held connections the server closed on its own (must be none while idle). */
export function countDropped(): number {
  return held.filter((h) => h.closedEarly).length
}

/** Closes every held connection and resolves when all are closed. */
export async function closeHeld(): Promise<HoldResult> {
  const t0 = performance.now()
  const entries = held.splice(0)
  await Promise.all(entries.map((h) => h.conn.close()))
  return { held: 0, failed: 0, firstError: null, elapsedMs: performance.now() - t0 }
}
