import type { Bus, BusEvent } from './bus.js'

/** The single-node bus: delivers every event to this process's subscribers, synchronously. */
export class LocalBus implements Bus {
  private readonly handlers = new Set<(event: BusEvent) => void>()
  /** Nothing travels between processes, so nothing arrives late. */
  readonly staleDropped = 0

  async publish(event: BusEvent): Promise<void> {
    for (const h of this.handlers) h(event)
  }

  subscribe(handler: (event: BusEvent) => void): () => void {
    this.handlers.add(handler)
    return () => this.handlers.delete(handler)
  }

  async close(): Promise<void> {
    this.handlers.clear()
  }
}
