import type { Writable } from 'node:stream'
import * as ws from 'ws'

type End = Writable['end']

/**
 * An `end` for ws's frame Receiver that returns at once when the stream has already finished and
 * no callback waits for the outcome. ws ends a socket's Receiver when the peer's close frame
 * arrives, then twice more when the peer's FIN and the socket's close follow (`socketOnEnd`,
 * `socketOnClose`); each later call made node build an ERR_STREAM_ALREADY_FINISHED error with a
 * full stack trace and drop it: 6–9% of the main thread's samples in bench
 * scenario 1 (decision 0356). With a callback, or on a stream still open, the original runs
 * unchanged.
 */
export function endUnlessFinished(original: End): End {
  return function end(this: Writable, ...args: unknown[]) {
    if (args.length === 0 && this.writableFinished) return this
    return (original as (...a: unknown[]) => Writable).apply(this, args)
  } as End
}

const ENDS_ONCE = Symbol('chatgate.endUnlessFinished')

/** ws's Receiver class (exported by ws, not declared by @types/ws). */
function receiverClass(): { prototype: Writable & { [ENDS_ONCE]?: true } } {
  const Receiver = (ws as unknown as { Receiver?: { prototype: Writable } }).Receiver
  if (typeof Receiver?.prototype?.end !== 'function') throw new Error('ws no longer exports its Receiver: revisit gateway/receiver-end.ts')
  return Receiver
}

/** Installs `endUnlessFinished` on ws's Receiver, once per process (every ws socket shares the class). */
export function skipRedundantReceiverEnds(): void {
  const proto = receiverClass().prototype
  if (proto[ENDS_ONCE]) return
  proto.end = endUnlessFinished(proto.end)
  proto[ENDS_ONCE] = true
}

/** True once `skipRedundantReceiverEnds` ran in this process. */
export function receiverEndsOnce(): boolean {
  return receiverClass().prototype[ENDS_ONCE] === true
}
