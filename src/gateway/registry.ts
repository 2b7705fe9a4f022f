import type { LiveConnection } from './connection.js'
import type { ConnectionRowWriter } from './row-writer.js'

/**
 * An index entry: the one connection of a key directly, a Set only from the second. Most sessions
 * and users hold a single socket, and a Set with its backing table costs ~230 bytes each (a
 * third of the gateway's own heap per idle connection before this).
 */
type Slot = LiveConnection | Set<LiveConnection>

/**
 * The live connections of this node, in memory: by session, by user, counted by IP. Every
 * add/remove is mirrored to the connections table through the write-behind writer. Nothing looks
 * a connection up by its id, so there is no index by id: at 19k sockets a Map entry is ~48 bytes
 * per connection (bench scenario 2); the whole set is walked through the session index.
 */
export class Registry {
  private readonly bySession = new Map<string, Slot>()
  private readonly byUser = new Map<string, Slot>()
  /** Per IP: the count and the one string of that address every connection from it shares. */
  private readonly perIp = new Map<string, { ip: string; n: number }>()
  /** Registered connections (the session index holds each once). */
  private count = 0

  constructor(
    private readonly nodeId: string,
    private readonly rows: ConnectionRowWriter,
  ) {}

  /** Registers a connection and queues its row. */
  add(conn: LiveConnection): void {
    if (!addTo(this.bySession, conn.sessionId, conn)) return
    this.count++
    addTo(this.byUser, conn.userId, conn)
    const ip = this.perIp.get(conn.ip)
    if (ip) ip.n++
    else this.perIp.set(conn.ip, { ip: conn.ip, n: 1 })
    this.rows.recordOpened(this.rowOf(conn))
  }

  /** Unregisters a connection and queues the removal of its row; false when it was not registered. */
  remove(conn: LiveConnection): boolean {
    if (!removeFrom(this.bySession, conn.sessionId, conn)) return false
    this.count--
    removeFrom(this.byUser, conn.userId, conn)
    const ip = this.perIp.get(conn.ip)
    if (ip && --ip.n <= 0) this.perIp.delete(conn.ip)
    this.rows.recordClosed(conn.id)
    return true
  }

  /** Live connections of a session (a copy: callers may close them while iterating). */
  ofSession(sessionId: string): LiveConnection[] {
    return slotList(this.bySession.get(sessionId))
  }

  /** Live connections of a user (a copy). */
  ofUser(userId: string): LiveConnection[] {
    return slotList(this.byUser.get(userId))
  }

  countForSession(sessionId: string): number {
    return slotSize(this.bySession.get(sessionId))
  }

  countForUser(userId: string): number {
    return slotSize(this.byUser.get(userId))
  }

  countForIp(ip: string): number {
    return this.perIp.get(ip)?.n ?? 0
  }

  /**
   * The registry's string for this address when a live connection already has it (else `ip`):
   * thousands of sockets behind one NAT or proxy then hold one string, not one each.
   */
  shareIp(ip: string): string {
    return this.perIp.get(ip)?.ip ?? ip
  }

  hasUser(userId: string): boolean {
    return this.byUser.has(userId)
  }

  get size(): number {
    return this.count
  }

  /** Every live connection, each once. */
  *values(): IterableIterator<LiveConnection> {
    for (const slot of this.bySession.values()) {
      if (slot instanceof Set) yield* slot
      else yield slot
    }
  }

  /** Resolves once every queued row change is in the store (tests, shutdown, duplicate checks). */
  flush(): Promise<void> {
    return this.rows.flush()
  }

  /** Re-queues every live row (after this node's rows may have been purged while it stalled). */
  rewriteAll(): void {
    for (const conn of this.values()) this.rows.recordRewrite(this.rowOf(conn))
  }

  private rowOf(conn: LiveConnection) {
    return {
      id: conn.id,
      sessionId: conn.sessionId,
      userId: conn.userId,
      nodeId: this.nodeId,
      ip: conn.ip,
      userAgent: conn.userAgent,
      connectedAt: conn.connectedAt,
    }
  }
}

/** Adds `conn` under `key`; false when it was already there. */
function addTo(index: Map<string, Slot>, key: string, conn: LiveConnection): boolean {
  const slot = index.get(key)
  if (slot === undefined) index.set(key, conn)
  else if (slot === conn) return false
  else if (!(slot instanceof Set)) index.set(key, new Set([slot, conn]))
  else if (slot.has(conn)) return false
  else slot.add(conn)
  return true
}

/** Removes `conn` from under `key`; false when it was not there. */
function removeFrom(index: Map<string, Slot>, key: string, conn: LiveConnection): boolean {
  const slot = index.get(key)
  if (slot === undefined) return false
  if (!(slot instanceof Set)) {
    if (slot !== conn) return false
    index.delete(key)
    return true
  }
  if (!slot.delete(conn)) return false
  // Back to a single entry (or none): the Set goes, so a key's cost does not stay at its peak.
  if (slot.size === 1) index.set(key, slot.values().next().value!)
  else if (slot.size === 0) index.delete(key)
  return true
}

function slotList(slot: Slot | undefined): LiveConnection[] {
  if (slot === undefined) return []
  return slot instanceof Set ? [...slot] : [slot]
}

function slotSize(slot: Slot | undefined): number {
  if (slot === undefined) return 0
  return slot instanceof Set ? slot.size : 1
}
