import { createId } from './auth/tokens.js'
import type { Bus } from './bus/types.js'

/**
 * Server push: hands `data` to every live device of a user, on any node, and resolves with how
 * many devices got it. The gateway implements it (its local sockets, plus the counts other nodes
 * report for the same `user_event` id); the HTTP route only depends on this interface.
 */
export interface EventDeliverer {
  deliver(userId: string, data: unknown): Promise<number>
}

/**
 * The deliverer of a node without a gateway: publishes the `user_event` on the bus, where any
 * node's subscribers may deliver it, and counts 0 because nothing here holds a socket.
 */
export function createBusDeliverer(bus: Bus): EventDeliverer {
  return {
    async deliver(userId, data) {
      await bus.publish({ type: 'user_event', userId, data, id: createId() })
      return 0
    },
  }
}
