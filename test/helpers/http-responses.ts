/** One HTTP/1.1 response read off the wire. */
export interface WireResponse {
  status: number
  /** Header names lower-cased, in order, repeats kept. */
  headers: [string, string][]
  body: Buffer
}

/** What a byte stream from a server holds, read strictly as HTTP/1.1 responses (RFC 9112). */
export interface WireParse {
  /** Complete responses, informational ones (1xx) included, in order. */
  responses: WireResponse[]
  /** Why the bytes are not well-formed responses, or null. */
  problem: string | null
  /** Bytes of a response not yet complete (more may come while the connection is open). */
  partial: boolean
  /** A 101 was read: what follows belongs to another protocol and is not read. */
  switched: boolean
}

export interface ParseOptions {
  /** The server closed the connection: anything incomplete is a problem, and a close-delimited body ends here. */
  closed: boolean
  /** True for the n-th final response when its request was HEAD (the response has no body whatever it declares). */
  bodiless?: (n: number) => boolean
}

const STATUS_LINE = /^HTTP\/1\.1 ([1-5]\d\d) [\t\x20-\x7e\x80-\xff]*$/
const HEADER_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[\t ]*([\t\x20-\x7e\x80-\xff]*?)[\t ]*$/
const CHUNK_SIZE_LINE = /^([0-9A-Fa-f]{1,8})(?:[\t ]*;[\t\x20-\x7e\x80-\xff]*)?$/
const CRLF = Buffer.from('\r\n')
const END_OF_HEAD = Buffer.from('\r\n\r\n')

/** The values of a header (lower-case name), in order. */
export const headerValues = (r: WireResponse, name: string): string[] => r.headers.filter(([n]) => n === name).map(([, v]) => v)

/** True when the response says the connection closes after it. */
export const closesConnection = (r: WireResponse): boolean =>
  headerValues(r, 'connection').some((v) => v.split(',').some((t) => t.trim().toLowerCase() === 'close'))

/**
 * Reads `bytes` as a sequence of HTTP/1.1 responses: status line, header fields, and a body framed
 * by Content-Length, chunked coding, or the close (RFC 9112 section 6.3). Stops at a 101.
 */
export function parseResponses(bytes: Buffer, options: ParseOptions): WireParse {
  const out: WireParse = { responses: [], problem: null, partial: false, switched: false }
  let at = 0
  let finals = 0
  const fail = (problem: string) => ({ ...out, problem: `${problem} (response ${out.responses.length + 1}, byte ${at})` })
  while (at < bytes.length) {
    const headEnd = bytes.indexOf(END_OF_HEAD, at)
    if (headEnd === -1) {
      const start = bytes.subarray(at, at + 9).toString('latin1')
      if (!'HTTP/1.1 '.startsWith(start) && !start.startsWith('HTTP/1.1 ')) return fail(`not a status line: ${JSON.stringify(start)}`)
      if (options.closed) return fail('the head was cut off by the close')
      return { ...out, partial: true }
    }
    const [statusLine, ...fieldLines] = bytes.subarray(at, headEnd).toString('latin1').split('\r\n')
    const status = STATUS_LINE.exec(statusLine!)
    if (!status) return fail(`malformed status line ${JSON.stringify(statusLine!.slice(0, 80))}`)
    const headers: [string, string][] = []
    for (const line of fieldLines) {
      const m = HEADER_LINE.exec(line)
      if (!m) return fail(`malformed header line ${JSON.stringify(line.slice(0, 80))}`)
      headers.push([m[1]!.toLowerCase(), m[2]!])
    }
    const response: WireResponse = { status: Number(status[1]), headers, body: Buffer.alloc(0) }
    at = headEnd + END_OF_HEAD.length
    if (response.status === 101) {
      out.responses.push(response)
      return { ...out, switched: true }
    }
    const informational = response.status < 200
    const framed = readBody(
      bytes,
      at,
      response,
      informational || response.status === 204 || response.status === 304 || (options.bodiless?.(finals) ?? false),
      options.closed,
    )
    if (typeof framed === 'string') return fail(framed)
    if (framed === null) return { ...out, partial: true }
    response.body = framed.body
    at = framed.next
    out.responses.push(response)
    if (!informational) finals++
  }
  return out
}

/** The body and where the next response starts; null when more bytes are needed; a string when malformed. */
function readBody(bytes: Buffer, at: number, r: WireResponse, none: boolean, closed: boolean): { body: Buffer; next: number } | null | string {
  const te = headerValues(r, 'transfer-encoding')
  const cl = headerValues(r, 'content-length')
  if (te.length > 0 && cl.length > 0) return 'both Transfer-Encoding and Content-Length'
  if (cl.length > 0 && (!cl.every((v) => /^\d{1,15}$/.test(v)) || new Set(cl).size > 1)) return `bad Content-Length ${JSON.stringify(cl)}`
  if (none) return { body: Buffer.alloc(0), next: at }
  if (te.length > 0) {
    const codings = te
      .join(',')
      .split(',')
      .map((t) => t.trim().toLowerCase())
    if (codings.at(-1) !== 'chunked' || codings.filter((c) => c === 'chunked').length > 1) return `bad Transfer-Encoding ${JSON.stringify(te)}`
    return readChunked(bytes, at, closed)
  }
  if (cl.length > 0) {
    const length = Number(cl[0])
    if (bytes.length - at < length) return closed ? `the body was cut off by the close (${bytes.length - at} of ${length} bytes)` : null
    return { body: bytes.subarray(at, at + length), next: at + length }
  }
  // No framing: the body runs to the close.
  return closed ? { body: bytes.subarray(at), next: bytes.length } : null
}

/** A chunked body (extensions allowed, trailer fields checked); see readBody for the result. */
function readChunked(bytes: Buffer, at: number, closed: boolean): { body: Buffer; next: number } | null | string {
  const parts: Buffer[] = []
  const more = closed ? 'the chunked body was cut off by the close' : null
  for (;;) {
    const lineEnd = bytes.indexOf(CRLF, at)
    if (lineEnd === -1) return more
    const line = bytes.subarray(at, lineEnd).toString('latin1')
    const size = CHUNK_SIZE_LINE.exec(line)
    if (!size) return `malformed chunk size line ${JSON.stringify(line.slice(0, 40))}`
    const length = parseInt(size[1]!, 16)
    at = lineEnd + CRLF.length
    if (length === 0) break
    if (bytes.length < at + length + CRLF.length) return more
    parts.push(bytes.subarray(at, at + length))
    if (!bytes.subarray(at + length, at + length + CRLF.length).equals(CRLF)) return 'a chunk does not end with CRLF'
    at += length + CRLF.length
  }
  // Trailer fields, then the empty line.
  for (;;) {
    const lineEnd = bytes.indexOf(CRLF, at)
    if (lineEnd === -1) return more
    const line = bytes.subarray(at, lineEnd).toString('latin1')
    at = lineEnd + CRLF.length
    if (line === '') return { body: Buffer.concat(parts), next: at }
    if (!HEADER_LINE.test(line)) return `malformed trailer line ${JSON.stringify(line.slice(0, 40))}`
  }
}
