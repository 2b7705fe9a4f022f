import type { LiveConnection } from './connection.js'
import type { ConnectionRowWriter } from './row-writer.js'

/**
 * The live connections of this node, in memory: by connection id, by session, by user, counted by
 * IP. Every add/remove is mirrored to the connections table through the write-behind writer.
 */
export class Registry {
  private readonly byId = new Map<string, LiveConnection>()
  private readonly bySession = new Map<string, Set<LiveConnection>>()
  private readonly byUser = new Map<string, Set<LiveConnection>>()
  private readonly perIp = new Map<string, number>()

  constructor(
    private readonly nodeId: string,
    private readonly rows: ConnectionRowWriter,
  ) {}

  /** Registers a connection and queues its row. */
  add(conn: LiveConnection): void {
    this.byId.set(conn.id, conn)
    addTo(this.bySession, conn.sessionId, conn)
    addTo(this.byUser, conn.userId, conn)
    this.perIp.set(conn.ip, (this.perIp.get(conn.ip) ?? 0) + 1)
    this.rows.recordOpened(this.rowOf(conn))
  }

  /** Unregisters a connection and queues the removal of its row; false when it was not registered. */
  remove(conn: LiveConnection): boolean {
    if (this.byId.get(conn.id) !== conn) return false
    this.byId.delete(conn.id)
    removeFrom(this.bySession, conn.sessionId, conn)
    removeFrom(this.byUser, conn.userId, conn)
    const n = (this.perIp.get(conn.ip) ?? 1) - 1
    if (n > 0) this.perIp.set(conn.ip, n)
    else this.perIp.delete(conn.ip)
    this.rows.recordClosed(conn.id)
    return true
  }

  get(id: string): LiveConnection | undefined {
    return this.byId.get(id)
  }

  /** Live connections of a session (a copy: callers may close them while iterating). */
  ofSession(sessionId: string): LiveConnection[] {
    const set = this.bySession.get(sessionId)
    return set ? [...set] : []
  }

  /** Live connections of a user (a copy). */
  ofUser(userId: string): LiveConnection[] {
    const set = this.byUser.get(userId)
    return set ? [...set] : []
  }

  countForSession(sessionId: string): number {
    return this.bySession.get(sessionId)?.size ?? 0
  }

  countForUser(userId: string): number {
    return this.byUser.get(userId)?.size ?? 0
  }

  countForIp(ip: string): number {
    return this.perIp.get(ip) ?? 0
  }

  hasUser(userId: string): boolean {
    return this.byUser.has(userId)
  }

  get size(): number {
    return this.byId.size
  }

  values(): IterableIterator<LiveConnection> {
    return this.byId.values()
  }

  /** Resolves once every queued row change is in the store (tests, shutdown, duplicate checks). */
  flush(): Promise<void> {
    return this.rows.flush()
  }

  /** Re-queues every live row (after this node's rows may have been purged while it stalled). */
  rewriteAll(): void {
    for (const conn of this.byId.values()) this.rows.recordRewrite(this.rowOf(conn))
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

function addTo<K, V>(index: Map<K, Set<V>>, key: K, value: V): void {
  const set = index.get(key)
  if (set) set.add(value)
  else index.set(key, new Set([value]))
}

function removeFrom<K, V>(index: Map<K, Set<V>>, key: K, value: V): void {
  const set = index.get(key)
  if (!set) return
  set.delete(value)
  if (set.size === 0) index.delete(key)
}
