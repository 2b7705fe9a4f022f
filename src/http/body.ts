import type { IncomingMessage } from 'node:http'
import sjson from 'secure-json-parse'
import type { z } from 'zod'
import { ApiError } from '../errors.js'

/** Largest JSON body accepted, per the contract. */
export const MAX_BODY_BYTES = 16 * 1024

/**
 * Reads a JSON body: 415 unless `application/json`, 413 past 16 KiB (checked on the declared
 * length first, then while streaming), 400 on malformed JSON. `__proto__` and `constructor`
 * keys are dropped, so a body can never pollute a prototype.
 */
export async function readJson(req: IncomingMessage, maxBytes = MAX_BODY_BYTES): Promise<unknown> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase()
  if (type !== 'application/json') throw new ApiError('UNSUPPORTED_MEDIA_TYPE')
  const declared = Number(req.headers['content-length'] ?? NaN)
  if (declared > maxBytes) throw new ApiError('PAYLOAD_TOO_LARGE')
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > maxBytes) throw new ApiError('PAYLOAD_TOO_LARGE')
    chunks.push(chunk)
  }
  const text = Buffer.concat(chunks).toString('utf8')
  try {
    return sjson.parse(text, undefined, { protoAction: 'remove', constructorAction: 'remove' })
  } catch {
    throw new ApiError('BAD_REQUEST', 'The body is not valid JSON.')
  }
}

/** Validates a parsed body against a schema; unknown fields are dropped, wrong types are 400. */
export function parseWith<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const parsed = schema.safeParse(value)
  if (parsed.success) return parsed.data
  const where = parsed.error.issues.map((i) => i.path.join('.') || 'body').join(', ')
  throw new ApiError('BAD_REQUEST', `Invalid or missing fields: ${where}.`)
}
