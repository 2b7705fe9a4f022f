import type { IncomingMessage } from 'node:http'
import sjson from 'secure-json-parse'
import type { z } from 'zod'
import { ApiError } from '../errors.js'

/** Largest JSON body accepted, per the contract. */
export const MAX_BODY_BYTES = 16 * 1024

/**
 * Reads a JSON body: 415 unless `application/json`, 413 past 16 KiB (checked on the declared
 * length first, then while streaming), 400 on malformed JSON. `__proto__` and `constructor`
 * keys are dropped, so a body can never pollute a prototype. On 413 the rest of the body is
 * left unread; the handler then closes the connection instead of draining it.
 */
export async function readJson(req: IncomingMessage, maxBytes = MAX_BODY_BYTES): Promise<unknown> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase()
  if (type !== 'application/json') throw new ApiError('UNSUPPORTED_MEDIA_TYPE')
  const declared = Number(req.headers['content-length'] ?? NaN)
  if (declared > maxBytes) throw new ApiError('PAYLOAD_TOO_LARGE')
  const text = (await readBodyUpTo(req, maxBytes)).toString('utf8')
  try {
    return sjson.parse(text, undefined, { protoAction: 'remove', constructorAction: 'remove' })
  } catch {
    throw new ApiError('BAD_REQUEST', 'The body is not valid JSON.')
  }
}

/**
 * Collects the body, or rejects with 413 as soon as it passes `maxBytes`, leaving the request
 * paused (not destroyed: the 413 must still reach the client before the connection closes).
 */
function readBodyUpTo(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const stop = () => {
      req.off('data', onData)
      req.off('end', onEnd)
      req.off('close', onAborted)
      req.off('error', onAborted)
    }
    const onData = (chunk: Buffer) => {
      size += chunk.length
      if (size > maxBytes) {
        stop()
        req.pause()
        reject(new ApiError('PAYLOAD_TOO_LARGE'))
        return
      }
      chunks.push(chunk)
    }
    const onEnd = () => {
      stop()
      resolve(Buffer.concat(chunks))
    }
    const onAborted = () => {
      stop()
      reject(new ApiError('BAD_REQUEST', 'The body ended early.'))
    }
    req.on('data', onData)
    req.on('end', onEnd)
    req.on('close', onAborted)
    req.on('error', onAborted)
  })
}

/** Validates a parsed body against a schema; unknown fields are dropped, wrong types are 400. */
export function parseWith<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const parsed = schema.safeParse(value)
  if (parsed.success) return parsed.data
  const where = parsed.error.issues.map((i) => i.path.join('.') || 'body').join(', ')
  throw new ApiError('BAD_REQUEST', `Invalid or missing fields: ${where}.`)
}
