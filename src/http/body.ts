import type { IncomingMessage } from 'node:http'
import sjson from 'secure-json-parse'
import { ApiError } from '../errors.js'

/** Largest JSON body accepted, per the contract. */
export const MAX_BODY_BYTES = 16 * 1024
/** Deepest nesting of arrays and objects accepted in a body, the body's own object or array counting as 1. */
export const MAX_JSON_DEPTH = 32

// Fatal: a lossy decoder would turn any invalid bytes into U+FFFD, so that different passwords
// (or names) read as the same string. ignoreBOM keeps a BOM in the text, where JSON.parse refuses it.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/**
 * Reads a JSON body: 415 unless `application/json`, 413 past 16 KiB (checked on the declared
 * length first, then while streaming), 400 when the body is not UTF-8, nests deeper than
 * MAX_JSON_DEPTH or is malformed JSON. `__proto__` and `constructor` keys are dropped, so a body
 * can never pollute a prototype. On 413 the rest of the body is left unread; the handler then
 * closes the connection instead of draining it.
 */
export async function readJson(req: IncomingMessage, maxBytes = MAX_BODY_BYTES): Promise<unknown> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase()
  if (type !== 'application/json') throw new ApiError('UNSUPPORTED_MEDIA_TYPE')
  const declared = Number(req.headers['content-length'] ?? NaN)
  if (declared > maxBytes) throw new ApiError('PAYLOAD_TOO_LARGE')
  const text = decodeUtf8(await readBodyUpTo(req, maxBytes))
  // Before parsing: whatever later walks the value (JSON.stringify of a pushed event) may recurse.
  if (isNestedDeeperThan(text, MAX_JSON_DEPTH)) throw new ApiError('BAD_REQUEST', `The body nests deeper than ${MAX_JSON_DEPTH} levels.`)
  try {
    return sjson.parse(text, undefined, { protoAction: 'remove', constructorAction: 'remove' })
  } catch {
    throw new ApiError('BAD_REQUEST', 'The body is not valid JSON.')
  }
}

/** The body as text, or 400 when it is not valid UTF-8. */
function decodeUtf8(bytes: Buffer): string {
  try {
    return utf8.decode(bytes)
  } catch {
    throw new ApiError('BAD_REQUEST', 'The body is not valid UTF-8.')
  }
}

/**
 * True when arrays and objects in `text` nest deeper than `max`. One pass with a counter, no
 * recursion, brackets inside strings skipped. Exact for valid JSON; for invalid JSON the answer
 * does not matter, since the parse that follows refuses it.
 */
export function isNestedDeeperThan(text: string, max: number): boolean {
  let depth = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 0x5c)
        i++ // backslash: the next character is escaped
      else if (c === 0x22) inString = false
    } else if (c === 0x22) inString = true
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true
    } else if (c === 0x5d || c === 0x7d) depth--
  }
  return false
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
