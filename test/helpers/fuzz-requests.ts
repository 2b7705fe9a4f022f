import fc from 'fast-check'
import {
  absolutePrefix,
  body,
  credentials,
  field,
  FIELDS,
  framing,
  method,
  PATH_EDITS,
  pathEdit,
  QUERY_PARTS,
  recase,
  ROUTE_BODIES,
  utf8,
  version,
  wildTarget,
  type Framing,
} from './fuzz-parts.js'

/**
 * Arbitrary HTTP/1.1 requests for fuzzing chatgate over the raw wire. Most start as a valid request
 * to a real route (or a valid upgrade to /ws) and get a few faults; some are wild throughout. A
 * request is a readable structure (what fast-check prints as a counterexample), rendered to bytes
 * at send time, when `$TOKEN`, `$ADMIN_TOKEN`, `$SERVICE_TOKEN`, `$SESSION_ID` and `$PORT` become
 * the run's values. Head text is sent as latin1: one character, one byte.
 */
export interface FuzzRequest {
  method: string
  target: string
  version: string
  /** The line ending of the head (CRLF, sometimes a bare LF). */
  eol: string
  headers: [string, string][]
  body: Uint8Array
  framing: Framing
}

/** The real values behind the placeholders. */
export interface FuzzSecrets {
  token: string
  adminToken: string
  serviceToken: string
  sessionId: string
  port: number
}

type Auth = 'none' | 'user' | 'admin'

/** The real routes: method, target, who may call, and the body they read. Usernames never name the watched user. */
const ENDPOINTS: [string, string, Auth, keyof typeof ROUTE_BODIES | null][] = [
  ['GET', '/healthz', 'none', null],
  ['GET', '/metrics', 'none', null],
  ['GET', '/user/checkUsername?username=fuzzer', 'none', null],
  ['POST', '/user/register', 'none', 'register'],
  ['PUT', '/user/password', 'user', 'password'],
  ['POST', '/session', 'none', 'login'],
  ['GET', '/session', 'user', null],
  ['DELETE', '/session', 'user', null],
  ['DELETE', '/session/others', 'user', null],
  ['DELETE', '/session/$SESSION_ID', 'user', null],
  ['POST', '/api/user', 'none', 'apiUser'],
  ['POST', '/api/session', 'none', 'apiSession'],
  ['POST', '/api/backoffice/session', 'none', 'backoffice'],
  ['GET', '/admin/devices?limit=2', 'admin', null],
  ['GET', '/admin/sessions?state=active', 'admin', null],
  ['DELETE', '/admin/sessions/$SESSION_ID', 'admin', null],
  ['POST', '/admin/users/fuzzer/disable', 'admin', null],
  ['POST', '/admin/users/fuzzer/enable', 'admin', null],
  ['POST', '/admin/users/fuzzer/events', 'admin', 'push'],
  // The listener keeps a socket open: a push to it is serialised and sent.
  ['POST', '/admin/users/listener/events', 'admin', 'push'],
  ['POST', '/admin/users/admin/disable', 'admin', null],
  ['GET', '/ws', 'user', null],
]

const CALLER: Record<Auth, [string, string][]> = {
  none: [],
  user: [
    ['Token', '$TOKEN'],
    ['Username', 'fuzzer'],
  ],
  admin: [
    ['Token', '$ADMIN_TOKEN'],
    ['Username', 'admin'],
  ],
}

const SERVICE: [string, string][] = [['Authorization', 'Bearer $SERVICE_TOKEN']]

/** A valid request to one of the real routes, with the caller's credentials and a body for it. */
const validRequest: fc.Arbitrary<FuzzRequest> = fc.constantFrom(...ENDPOINTS).chain(([m, target, auth, bodyName]) =>
  fc.record({
    method: fc.constant(m),
    target: fc.constant(target),
    version: fc.constant('HTTP/1.1'),
    eol: fc.constant('\r\n'),
    headers: (auth === 'admin' ? fc.constantFrom(CALLER.admin, SERVICE) : fc.constant(CALLER[auth])).map((creds): [string, string][] => [
      ['Host', '127.0.0.1:$PORT'],
      ...(bodyName ? [['Content-Type', 'application/json'] as [string, string]] : []),
      ...creds,
    ]),
    body: bodyName ? ROUTE_BODIES[bodyName]!.map(utf8) : fc.constant(new Uint8Array(0)),
    framing: fc.constant<Framing>(bodyName ? { kind: 'length', delta: 0 } : { kind: 'none' }),
  }),
)

/** A valid upgrade to /ws by the fuzzing user: credentials as headers or as subprotocols. */
const validUpgrade: fc.Arbitrary<FuzzRequest> = fc.tuple(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.boolean()).map(([key, inProtocols]) => ({
  method: 'GET',
  target: '/ws',
  version: 'HTTP/1.1',
  eol: '\r\n',
  headers: [
    ['Host', '127.0.0.1:$PORT'],
    ['Connection', 'Upgrade'],
    ['Upgrade', 'websocket'],
    ['Sec-WebSocket-Version', '13'],
    ['Sec-WebSocket-Key', Buffer.from(key).toString('base64')],
    ...(inProtocols ? [['Sec-WebSocket-Protocol', 'chatgate.v1, token.$TOKEN, username.fuzzer'] as [string, string]] : CALLER.user),
  ],
  body: new Uint8Array(0),
  framing: { kind: 'none' },
}))

/** One thing done wrong (or just differently) to a request. */
type Fault =
  | { kind: 'method'; method: string }
  | { kind: 'edit'; edit: string; at: number }
  | { kind: 'absolute'; prefix: string }
  | { kind: 'query'; query: string }
  | { kind: 'target'; target: string }
  | { kind: 'version'; version: string }
  | { kind: 'bare-lf' }
  | { kind: 'add'; field: [string, string] }
  | { kind: 'set'; name: string; value: string }
  | { kind: 'drop'; at: number }
  | { kind: 'repeat'; at: number }
  | { kind: 'recase'; how: number }
  | { kind: 'credentials'; fields: [string, string][] }
  | { kind: 'body'; body: Uint8Array }
  | { kind: 'framing'; framing: Framing }

const fault: fc.Arbitrary<Fault> = fc.oneof(
  fc.record({ kind: fc.constant('method' as const), method }),
  fc.tuple(pathEdit).map(([[edit, at]]): Fault => ({ kind: 'edit', edit, at })),
  absolutePrefix.map((prefix): Fault => ({ kind: 'absolute', prefix })),
  fc.array(fc.constantFrom(...QUERY_PARTS), { minLength: 1, maxLength: 3 }).map((q): Fault => ({ kind: 'query', query: q.join('&') })),
  wildTarget.map((target): Fault => ({ kind: 'target', target })),
  version.map((v): Fault => ({ kind: 'version', version: v })),
  fc.constant<Fault>({ kind: 'bare-lf' }),
  { arbitrary: field.map((f): Fault => ({ kind: 'add', field: f })), weight: 3 },
  {
    arbitrary: fc.constantFrom(...Object.keys(FIELDS)).chain((name) => fc.constantFrom(...FIELDS[name]!).map((value): Fault => ({ kind: 'set', name, value }))),
    weight: 3,
  },
  fc.nat().map((at): Fault => ({ kind: 'drop', at })),
  fc.nat().map((at): Fault => ({ kind: 'repeat', at })),
  fc.nat().map((how): Fault => ({ kind: 'recase', how })),
  credentials.map((fields): Fault => ({ kind: 'credentials', fields })),
  { arbitrary: body.map((b): Fault => ({ kind: 'body', body: b })), weight: 3 },
  { arbitrary: framing.map((f): Fault => ({ kind: 'framing', framing: f })), weight: 2 },
)

/** Applies one fault to a request (a new request; the input is left as is). */
function applyFault(r: FuzzRequest, f: Fault): FuzzRequest {
  const headers = r.headers
  const [path, query = null] = r.target.split(/\?(.*)/s) as [string, string?]
  switch (f.kind) {
    case 'method':
      return { ...r, method: f.method }
    case 'edit':
      return { ...r, target: PATH_EDITS[f.edit]!(path, f.at) + (query === null ? '' : `?${query}`) }
    case 'absolute':
      return { ...r, target: f.prefix + r.target }
    case 'query':
      return { ...r, target: `${path}?${f.query}` }
    case 'target':
      return { ...r, target: f.target }
    case 'version':
      return { ...r, version: f.version }
    case 'bare-lf':
      return { ...r, eol: '\n' }
    case 'add':
      return { ...r, headers: [...headers, f.field] }
    case 'set': {
      const others = headers.filter(([n]) => n.toLowerCase() !== f.name.toLowerCase())
      return { ...r, headers: [...others, [f.name, f.value]] }
    }
    case 'drop':
      return headers.length === 0 ? r : { ...r, headers: headers.filter((_, i) => i !== f.at % headers.length) }
    case 'repeat':
      return headers.length === 0 ? r : { ...r, headers: [...headers, headers[f.at % headers.length]!] }
    case 'recase':
      return { ...r, headers: headers.map(([n, v], i): [string, string] => [recase(n, f.how + i), v]) }
    case 'credentials': {
      const isCredential = (n: string) => ['token', 'username', 'authorization'].includes(n.toLowerCase())
      return { ...r, headers: [...headers.filter(([n]) => !isCredential(n)), ...f.fields] }
    }
    case 'body':
      return { ...r, body: f.body, framing: r.framing.kind === 'none' && r.method !== 'GET' ? { kind: 'length', delta: 0 } : r.framing }
    case 'framing':
      return { ...r, framing: f.framing }
  }
}

/** A request built from random parts throughout: almost never valid, reaching every early refusal. */
const wildRequest: fc.Arbitrary<FuzzRequest> = fc.record({
  method,
  target: fc.oneof(
    wildTarget,
    fc.tuple(absolutePrefix, fc.constantFrom(...ENDPOINTS.map((e) => e[1]))).map(([a, t]) => a + t),
  ),
  version: fc.oneof(fc.constant('HTTP/1.1'), version),
  eol: fc.constantFrom('\r\n', '\n'),
  headers: fc.array(field, { maxLength: 6 }),
  body,
  framing,
})

/** A valid request or upgrade with up to three faults, or a wild one. */
export const request: fc.Arbitrary<FuzzRequest> = fc.oneof(
  {
    arbitrary: fc
      .tuple(fc.oneof({ arbitrary: validRequest, weight: 3 }, validUpgrade), fc.oneof(fc.constant([]), fc.array(fault, { minLength: 1, maxLength: 3 })))
      .map(([r, faults]) => faults.reduce(applyFault, r)),
    weight: 6,
  },
  wildRequest,
)

/**
 * One case: a request, sometimes followed on the same connection by a second one (pipelined, never
 * HEAD, so that only the first answer can be bodiless), sent in one write or split in two.
 */
export const fuzzCase = fc.record({
  first: request,
  second: fc.oneof(
    { arbitrary: fc.constant(undefined), weight: 5 },
    request.filter((r) => r.method !== 'HEAD'),
  ),
  splitAt: fc.option(fc.nat(), { nil: undefined, freq: 3 }),
})

/** A generated case: what fuzzCase yields. */
export type FuzzCase = typeof fuzzCase extends fc.Arbitrary<infer T> ? T : never

// ── rendering ──

/** Replaces the placeholders with the run's values. */
function fill(s: string, secrets: FuzzSecrets): string {
  return s
    .replaceAll('$SERVICE_TOKEN', secrets.serviceToken)
    .replaceAll('$ADMIN_TOKEN', secrets.adminToken)
    .replaceAll('$TOKEN', secrets.token)
    .replaceAll('$SESSION_ID', secrets.sessionId)
    .replaceAll('$PORT', String(secrets.port))
}

/** The body as framed on the wire, and the header fields its framing needs. */
function frame(body: Buffer, f: Framing): { fields: [string, string][]; bytes: Buffer } {
  switch (f.kind) {
    case 'none':
      return { fields: [], bytes: body }
    case 'length':
      return { fields: [['Content-Length', String(Math.max(0, body.length + f.delta))]], bytes: body }
    case 'raw-length':
      return { fields: f.values.map((v): [string, string] => ['Content-Length', v]), bytes: body }
    case 'chunked': {
      const size = Math.ceil(body.length / f.pieces) || 1
      const chunks: Buffer[] = []
      for (let at = 0; at < body.length; at += size) {
        const piece = body.subarray(at, at + size)
        const hex = piece.length.toString(16)
        const head = { 'bad-size': 'zz', 'size-too-big': (piece.length + 5).toString(16), extension: `${hex};ext="v"` }[f.flaw as string] ?? hex
        chunks.push(Buffer.from(`${head}\r\n`), piece, Buffer.from(f.flaw === 'no-crlf' ? '' : '\r\n'))
      }
      if (f.flaw !== 'no-last-chunk') chunks.push(Buffer.from(f.flaw === 'trailer' ? '0\r\nX-Trailer: t\r\n\r\n' : '0\r\n\r\n'))
      const fields: [string, string][] = [['Transfer-Encoding', f.te]]
      if (f.alsoLength) fields.push(['Content-Length', String(body.length)])
      return { fields, bytes: Buffer.concat(chunks) }
    }
  }
}

/** The bytes of a request, placeholders filled in. */
export function renderRequest(r: FuzzRequest, secrets: FuzzSecrets): Buffer {
  const framed = frame(Buffer.from(r.body), r.framing)
  const line = [r.method, fill(r.target, secrets), r.version].filter((p, i) => i !== 2 || p !== '').join(' ')
  const fields = [...r.headers, ...framed.fields].map(([n, v]) => `${n}: ${fill(v, secrets)}${r.eol}`).join('')
  return Buffer.concat([Buffer.from(`${line}${r.eol}${fields}${r.eol}`, 'latin1'), framed.bytes])
}
