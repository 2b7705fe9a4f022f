/**
 * Server push: hands `data` to every live device of a user, on any node, and resolves with how
 * many devices got it. The gateway implements it (src/gateway/push-delivery.ts: its own sockets,
 * plus the counts other nodes report for the same `user_event` id); the HTTP route only depends
 * on this interface.
 */
export interface EventDeliverer {
  deliver(userId: string, data: unknown): Promise<number>
}
