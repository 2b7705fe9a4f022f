import { refusalResult } from '../../src/client/connection.js'
import { dial, type ClientCredential, type Conn, type TargetSpec } from './dial.js'

/** How a client waits before its next attempt after a lost connection or a refusal. */
export type RetryRule =
  /** The client SDK's rule: full-jitter exponential backoff, reset after `resetAfterMs` open. */
  | { kind: 'jitter'; baseMs: number; capMs: number; resetAfterMs: number }
  /** What naive clients do: the same wait every time. */
  | { kind: 'fixed'; delayMs: number }

export interface StormStartJob {
  type: 'storm-start'
  target: TargetSpec
  /** One reconnecting client per credential. */
  credentials: ClientCredential[]
  /** Source addresses, round-robin over the clients. */
  localAddresses: string[]
  rule: RetryRule
  /** Dials in flight at once for the first connection of every client. */
  rampConcurrency: number
}

export interface StormStatus {
  clients: number
  /** Clients holding a welcomed socket right now. */
  connected: number
  /** Epoch ms each client got its first welcome after the mark (only those that are back). */
  backAt: number[]
  /** Clients that lost their socket after the mark. */
  lostAfterMark: number
  /** Failed attempts by cause: HTTP status, `ECONNREFUSED`, `close 1001`, `timeout`... */
  refusals: Record<string, number>
  /** Sockets the server closed before the mark (nothing should be lost while the node runs). */
  lostBeforeMark: number
  /** Clients that stopped for good (an upgrade refused 401). */
  stopped: number
}

interface Client {
  cred: ClientCredential
  target: TargetSpec
  conn: Conn | null
  attempt: number
  openedAt: number
  backAt: number | null
  lostAfterMark: boolean
  timer: NodeJS.Timeout | null
  /** Stopped for good: a refusal said the credentials are no longer valid. */
  ended: boolean
}

let clients: Client[] = []
let rule: RetryRule = { kind: 'fixed', delayMs: 1000 }
let markAt = Number.POSITIVE_INFINITY
let stopped = true
let refusals: Record<string, number> = {}
let lostBeforeMark = 0

/** A refusal's `Retry-After` in ms, read from the dial error's copy of the answer (wire.ts keeps its head). */
export function retryAfterMsOf(message: string): number | undefined {
  const m = /retry-after:\s*(\d+)/i.exec(message)
  return m ? Number(m[1]) * 1000 : undefined
}

/** One more under `key`. */
function count(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1
}

/** The wait before attempt number `attempt` (0 = the first retry). */
export function retryDelay(r: RetryRule, attempt: number, random = Math.random): number {
  if (r.kind === 'fixed') return r.delayMs
  return random() * Math.min(r.capMs, r.baseMs * 2 ** attempt)
}

/** What a failed dial is counted as. */
export function causeOf(message: string): string {
  const status = /upgrade refused: HTTP\/1\.1 (\d{3})/.exec(message)
  if (status) return status[1]!
  const closed = /closed with (\d+)/.exec(message)
  if (closed) return `close ${closed[1]}`
  const code = /\b(E[A-Z]{4,})\b/.exec(message)
  if (code) return code[1]!
  if (message.includes('no welcome')) return 'timeout'
  if (message.includes('ended before the welcome')) return 'ended'
  return 'other'
}

function schedule(c: Client, waitMs?: number): void {
  if (stopped || c.ended) return
  const wait = waitMs ?? retryDelay(rule, c.attempt)
  c.attempt++
  c.timer = setTimeout(() => {
    c.timer = null
    void connect(c)
  }, wait)
}

async function connect(c: Client): Promise<void> {
  if (stopped) return
  try {
    const conn = await dial(c.target, c.cred)
    if (stopped) {
      void conn.close()
      return
    }
    c.conn = conn
    c.openedAt = Date.now()
    if (c.openedAt >= markAt && c.backAt === null) c.backAt = c.openedAt
    void conn.closed.then(() => {
      c.conn = null
      const now = Date.now()
      if (now < markAt) lostBeforeMark++
      else c.lostAfterMark = true
      if (rule.kind === 'jitter' && now - c.openedAt >= rule.resetAfterMs) c.attempt = 0
      schedule(c)
    })
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e)
    const cause = causeOf(message)
    count(refusals, cause)
    // An upgrade refused with an HTTP answer follows the Node SDK's own rule (refusalResult,
    // decision 0354): stop for good, wait the refusal's Retry-After, or back off. The naive
    // fixed-delay client just retries.
    if (rule.kind === 'jitter' && /^\d{3}$/.test(cause)) {
      const refusal = refusalResult(Number(cause), undefined)
      if (refusal.kind === 'unauthorized') {
        c.ended = true
        return
      }
      schedule(c, refusal.kind === 'wait' ? retryAfterMsOf(message) : undefined)
      return
    }
    schedule(c)
  }
}

/** Connects every client (resolves when each has its first socket or gave up once), then keeps them reconnecting. */
export async function startStorm(job: StormStartJob): Promise<StormStatus> {
  stopStorm()
  stopped = false
  rule = job.rule
  markAt = Number.POSITIVE_INFINITY
  refusals = {}
  lostBeforeMark = 0
  clients = job.credentials.map((cred, i) => ({
    cred,
    target: { ...job.target, localAddress: job.localAddresses[i % job.localAddresses.length] },
    conn: null,
    attempt: 0,
    openedAt: 0,
    backAt: null,
    lostAfterMark: false,
    timer: null,
    ended: false,
  }))
  let next = 0
  const worker = async () => {
    while (next < clients.length) await connect(clients[next++]!)
  }
  await Promise.all(Array.from({ length: job.rampConcurrency }, worker))
  return stormStatus()
}

/** From now on a welcome counts as a client coming back. */
export function markStorm(at: number): StormStatus {
  markAt = at
  return stormStatus()
}

export function stormStatus(): StormStatus {
  return {
    clients: clients.length,
    connected: clients.filter((c) => c.conn !== null).length,
    backAt: clients.flatMap((c) => (c.lostAfterMark && c.backAt !== null && c.conn !== null ? [c.backAt] : [])),
    lostAfterMark: clients.filter((c) => c.lostAfterMark).length,
    refusals: { ...refusals },
    lostBeforeMark,
    stopped: clients.filter((c) => c.ended).length,
  }
}

/** Stops reconnecting and closes every socket. */
export function stopStorm(): void {
  stopped = true
  for (const c of clients) {
    if (c.timer) clearTimeout(c.timer)
    c.timer = null
    void c.conn?.close()
  }
}

/** Resolves when every client's socket is closed (after stopStorm). */
export async function stormClosed(): Promise<void> {
  const open = clients.flatMap((c) => (c.conn ? [c.conn.closed] : []))
  await Promise.all(open)
  clients = []
}
