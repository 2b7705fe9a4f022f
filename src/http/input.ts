import type { IncomingMessage } from 'node:http'
import type { z } from 'zod'
import { ApiError } from '../errors.js'
import { readJson } from './body.js'

/** Validates a parsed value against a schema; unknown fields are dropped, wrong types are 400 naming the fields. */
export function parseWith<S extends z.ZodType>(schema: S, value: unknown, what = 'fields'): z.output<S> {
  const parsed = schema.safeParse(value)
  if (parsed.success) return parsed.data
  const where = parsed.error.issues.map((i) => i.path.join('.') || 'body').join(', ')
  const hint = parsed.error.issues.find((i) => i.code === 'custom')?.message
  throw new ApiError('BAD_REQUEST', hint ? `${hint}.` : `Invalid or missing ${what}: ${where}.`)
}

/**
 * The query as an object for the route's schema: every parameter once (a repeated one is 400,
 * never a silent pick), values as strings.
 */
export function readQuery(schema: z.ZodType, query: URLSearchParams): unknown {
  const out: Record<string, string> = {}
  for (const [key, value] of query) {
    if (key in out) throw new ApiError('BAD_REQUEST', `${key} may be given once.`)
    out[key] = value
  }
  return parseWith(schema, out, 'query parameters')
}

/** The JSON body, read and checked against the route's schema (415, 413, 400 as body.ts says). */
export async function readBody(schema: z.ZodType, req: IncomingMessage): Promise<unknown> {
  return parseWith(schema, await readJson(req))
}
