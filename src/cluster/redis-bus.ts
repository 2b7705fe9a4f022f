import { randomUUID } from 'node:crypto'
import type { Redis } from 'ioredis'
import type { Logger } from 'pino'
import { DependencyHealth } from '../health/dependency-health.js'
import { closeRedis, connectRedis, createRedisClient, describeRedisUrl } from './redis-client.js'
import type { Bus, BusEvent } from './bus.js'

export interface RedisBusOptions {
  url: string
  /** Channel prefix (config REDIS_PREFIX): deployments and tests sharing a server stay apart. */
  prefix: string
  log: Logger
  /** How long start-up waits for Redis before giving up (default 5 s). */
  connectTimeoutMs?: number
  /** How long one publish may wait for Redis before it counts as failed (default BUS_PUBLISH_TIMEOUT_MS). */
  publishTimeoutMs?: number
  /** Oldest a message may be when it arrives (config BUS_MAX_AGE_MS); older ones are dropped and counted. */
  maxAgeMs?: number
  /** How often the publisher connection is pinged to see a hung server (default BUS_PING_EVERY_MS). */
  pingEveryMs?: number
  now?: () => number
}

/** How often an open connection is pinged: a hung server (connection open, no answers) shows as down within this plus the publish timeout. */
export const BUS_PING_EVERY_MS = 1_000

/** Longest one publish waits on Redis (a hung server): bounds a push with PUSH_ANSWER_WAIT_MS. */
export const BUS_PUBLISH_TIMEOUT_MS = 1_000
/** Default of BUS_MAX_AGE_MS: a message older than this on arrival is dropped. */
export const BUS_MAX_AGE_MS = 5_000

/** What travels on the channel: the event, the bus instance that sent it and when (epoch ms). */
interface Envelope {
  from: string
  /** Absent from older senders (their messages are never dropped for age). */
  sentAt?: number
  event: BusEvent
}

/** Largest message read from the channel; anything bigger is not one of ours. */
const MAX_MESSAGE_BYTES = 1024 * 1024

/**
 * The multi-node bus: one publisher and one subscriber connection to Redis pub/sub, JSON on one
 * channel per prefix. Each event is delivered to this node's handlers first and synchronously, so
 * a Redis outage only cuts other nodes off; the echo of our own message is ignored. Connections
 * reconnect with backoff and resubscribe, so events flow again when Redis is back.
 */
export class RedisBus implements Bus {
  readonly channel: string
  private readonly handlers = new Set<(event: BusEvent) => void>()
  private closed = false
  private dropped = 0
  private pinging = false
  private pingTimer: NodeJS.Timeout | undefined

  private constructor(
    /** Identifies this bus instance on the channel (not NODE_ID: two instances must never collide). */
    readonly instanceId: string,
    private readonly pub: Redis,
    private readonly sub: Redis,
    private readonly log: Logger,
    prefix: string,
    private readonly maxAgeMs: number,
    private readonly now: () => number,
    /** Whether the server answers at all: a hung Redis keeps its connections `ready`. */
    private readonly answering: DependencyHealth,
  ) {
    this.channel = `${prefix}bus`
    sub.on('message', (channel: string, message: string) => {
      if (channel === this.channel) this.receive(message)
    })
  }

  /** Connects both connections and subscribes; rejects (naming the server) if Redis is not there at start. */
  static async open(options: RedisBusOptions): Promise<RedisBus> {
    const { url, prefix, log } = options
    const connectTimeoutMs = options.connectTimeoutMs ?? 5_000
    const instanceId = randomUUID()
    // Named per instance in CLIENT LIST: `<prefix>pub:<8 hex>` / `<prefix>sub:<8 hex>`.
    const tag = instanceId.slice(0, 8)
    // The publisher fails fast while Redis is away (no offline queue, a command timeout) so that a
    // publish never hangs. Neither connection queues commands while offline, so nothing is replayed
    // late; the subscriber resubscribes by itself once it is ready again after a reconnect. A
    // PUBLISH already written to a hung server still runs when it resumes: receivers drop it by age.
    const pub = createRedisClient(url, `${prefix}pub:${tag}`, log, {
      enableOfflineQueue: false,
      commandTimeout: options.publishTimeoutMs ?? BUS_PUBLISH_TIMEOUT_MS,
    })
    const sub = createRedisClient(url, `${prefix}sub:${tag}`, log, { enableOfflineQueue: false })
    const now = options.now ?? Date.now
    const answering = new DependencyHealth({
      name: 'redis',
      log,
      now,
      fields: { redis: describeRedisUrl(url) },
      messages: { down: 'redis does not answer (connection open); bus marked down', stillDown: 'redis still does not answer', up: 'redis answers again' },
    })
    const bus = new RedisBus(instanceId, pub, sub, log, prefix, options.maxAgeMs ?? BUS_MAX_AGE_MS, now, answering)
    try {
      await Promise.all([connectRedis(pub, url, connectTimeoutMs), connectRedis(sub, url, connectTimeoutMs)])
      await sub.subscribe(bus.channel)
    } catch (e) {
      pub.disconnect()
      sub.disconnect()
      throw e
    }
    bus.pingTimer = setInterval(() => bus.ping(), options.pingEveryMs ?? BUS_PING_EVERY_MS).unref()
    return bus
  }

  /** True while both connections are up and the server answers (what /readyz reports as `bus`). */
  get connected(): boolean {
    return this.pub.status === 'ready' && this.sub.status === 'ready' && this.answering.isUp
  }

  /**
   * One PING at a time on the publisher, bounded by its command timeout. Only asked while the
   * connection is `ready`: a lost connection is the client's own outage (logged there); this sees
   * the server that holds the connection open and answers nothing (SIGSTOP, a stalled host).
   */
  private ping(): void {
    if (this.pinging || this.closed || this.pub.status !== 'ready') return
    this.pinging = true
    this.pub
      .ping()
      .then(
        () => this.answering.reportSuccess(),
        (err) => this.answering.reportFailure(err),
      )
      .finally(() => {
        this.pinging = false
      })
  }

  async publish(event: BusEvent): Promise<void> {
    this.deliver(event)
    if (this.closed) return
    const envelope: Envelope = { from: this.instanceId, sentAt: this.now(), event }
    try {
      await this.pub.publish(this.channel, JSON.stringify(envelope))
    } catch (err) {
      // One line per lost publish (the event is named), without a stack: the outage itself is logged by the connection.
      this.log.warn({ error: String((err as Error)?.message ?? err), event_type: event.type }, 'bus: publish to redis failed; delivered on this node only')
    }
  }

  /** Messages from other nodes dropped because they arrived older than the age bound. */
  get staleDropped(): number {
    return this.dropped
  }

  subscribe(handler: (event: BusEvent) => void): () => void {
    this.handlers.add(handler)
    return () => this.handlers.delete(handler)
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    clearInterval(this.pingTimer)
    this.handlers.clear()
    await Promise.all([closeRedis(this.pub), closeRedis(this.sub)])
  }

  /** A message from the channel: another node's event (ours are skipped), or garbage (logged, dropped). */
  private receive(message: string): void {
    const envelope = message.length <= MAX_MESSAGE_BYTES ? parseEnvelope(message) : null
    if (!envelope) {
      this.log.warn({ channel: this.channel, bytes: message.length }, 'bus: ignored a malformed message')
      return
    }
    if (envelope.from === this.instanceId) return
    // On time or not at all: a message held up in a hung Redis must not act seconds later (a push
    // the backend already counted as undelivered, a stale `session_connected`).
    const age = typeof envelope.sentAt === 'number' ? this.now() - envelope.sentAt : 0
    if (age > this.maxAgeMs) {
      this.dropped++
      this.log.debug({ event: 'bus_stale_dropped', event_type: envelope.event.type, age_ms: age }, 'bus: dropped a message older than BUS_MAX_AGE_MS')
      return
    }
    this.deliver(envelope.event)
  }

  /** Each handler on its own: one that throws must not keep the event from the others. */
  private deliver(event: BusEvent): void {
    for (const handler of this.handlers) {
      try {
        handler(event)
      } catch (err) {
        this.log.error({ err, event_type: event.type }, 'bus: an event handler failed')
      }
    }
  }
}

function parseEnvelope(message: string): Envelope | null {
  try {
    const v = JSON.parse(message) as Partial<Envelope> | null
    if (typeof v?.from === 'string' && typeof v.event === 'object' && v.event !== null && typeof v.event.type === 'string') {
      return v as Envelope
    }
  } catch {
    // not JSON
  }
  return null
}
