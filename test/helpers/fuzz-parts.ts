import fc from 'fast-check'

/**
 * The parts fuzzed requests are made of (test/helpers/fuzz-requests.ts assembles them): request
 * targets, methods, header fields, JSON bodies and body framing, each mixing valid values with
 * broken ones. `$TOKEN`-style placeholders stand for the run's credentials (see renderRequest).
 */

// ── request targets ──

/** Query strings near what the routes read, and broken ones. */
export const QUERY_PARTS = [
  'username=fuzzer',
  'username=',
  'username=%zz',
  'username=a%00b',
  'token=x',
  'TOKEN=$TOKEN',
  'limit=1',
  'limit=-1',
  'limit=abc',
  'limit=1&limit=2',
  'cursor=garbage',
  'cursor=',
  'state=active',
  'state=bogus',
  'a=%',
  'x',
  '=',
  '&&',
]

const splice = (path: string, at: number, insert: string, remove = 0) => {
  const i = at % (path.length + 1)
  return path.slice(0, i) + insert + path.slice(i + remove)
}

/** What a client may do to a path: escapes good and bad, doubled or back slashes, dot segments, odd bytes. */
export const PATH_EDITS: Record<string, (path: string, at: number) => string> = {
  trailingSlash: (p) => `${p}/`,
  doubleSlash: (p, at) => splice(p, at, '/'),
  backslash: (p, at) => splice(p, at, '\\'),
  goodEscape: (p, at) => {
    const i = at % Math.max(1, p.length)
    return `${p.slice(0, i)}%${(p.charCodeAt(i) || 0x2f).toString(16).padStart(2, '0')}${p.slice(i + 1)}`
  },
  badEscape: (p, at) => splice(p, at, ['%', '%z1', '%4', '%%', '%u0041'][at % 5]!),
  encodedSlash: (p, at) => splice(p, at, '%2f'),
  dotSegment: (p, at) => splice(p, at, ['/.', '/..', '/./', '/../'][at % 4]!),
  nonAscii: (p, at) => splice(p, at, ['\u00e9', '\u00ff', '\u0080', Buffer.from('ü').toString('latin1')][at % 4]!),
  controlByte: (p, at) => splice(p, at, ['\u0000', '\u0001', '\u007f', '\t', ' '][at % 5]!),
  fragment: (p) => `${p}#frag`,
  nulEscape: (p, at) => splice(p, at, '%00'),
  long: (p, at) => `${p}/${'a'.repeat([201, 5_000, 20_000][at % 3]!)}`,
}

/** One of PATH_EDITS by name, and where in the path it applies. */
export const pathEdit = fc.tuple(fc.constantFrom(...Object.keys(PATH_EDITS)), fc.nat())

/** Absolute-form prefixes, valid and not. */
export const absolutePrefix = fc.constantFrom('http://127.0.0.1:$PORT', 'https://example.com', 'HTTP://[::1]', 'http://u@h', 'ftp://h', 'http://')

/** Targets nothing like a route: `*`, empty, doubled slashes, random ASCII and latin1 bytes. */
export const wildTarget = fc.oneof(
  fc.constantFrom('*', '', '//', '//x/metrics', 'healthz', '/\\x', '?', '/?#'),
  fc.string({ unit: 'binary-ascii', maxLength: 30 }).map((s) => `/${s}`),
  fc.string({ unit: fc.integer({ min: 0x21, max: 0xff }).map((c) => String.fromCharCode(c)), maxLength: 30 }),
)

// ── methods and versions ──

/** Methods of the routes, other real ones, odd ones, broken ones. */
export const method = fc.oneof(
  { arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE'), weight: 3 },
  fc.constantFrom('HEAD', 'OPTIONS', 'PATCH', 'TRACE', 'CONNECT', 'PROPFIND', 'QUERY', 'M-SEARCH', 'PURGE', 'get', 'Post', 'G\u0001T', '', 'GET GET'),
  fc.stringMatching(/^[A-Z]{1,12}$/),
)

/** HTTP versions other than 1.1, and broken ones. */
export const version = fc.constantFrom('HTTP/1.0', 'HTTP/2.0', 'HTTP/0.9', 'http/1.1', 'HTTP/1.12', 'HTTP/1', '', 'HTTP/1.1 x')

// ── header fields ──

/** A header name in another case: header names are case-insensitive, and code must treat them so. */
export const recase = (name: string, how: number) =>
  [name, name.toLowerCase(), name.toUpperCase(), [...name].map((c, i) => (i % 2 ? c.toUpperCase() : c.toLowerCase())).join('')][how % 4]!

const CONTROL_VALUES = ['a\u0000b', 'a\u0001b', 'a\u007fb', 'a\u0085b', 'evil\u009b31m', 'a\rb', 'a\nb', '\t', ' ', '']

/** Values for a header: good ones most of the time, else garbage, control bytes, latin1 or huge. */
const headerValueOf = (good: string[]) =>
  fc.oneof(
    { arbitrary: fc.constantFrom(...good), weight: 4 },
    fc.constantFrom(...CONTROL_VALUES),
    fc.string({ unit: 'binary-ascii', maxLength: 40 }),
    fc.string({ unit: fc.integer({ min: 0x80, max: 0xff }).map((c) => String.fromCharCode(c)), maxLength: 8 }),
    fc.constantFrom(300, 9_000, 20_000).map((n) => 'x'.repeat(n)),
  )

/** Known fields with values worth trying, the WebSocket ones included. */
export const FIELDS: Record<string, string[]> = {
  Host: ['127.0.0.1:$PORT', 'localhost', '', '[::1]:80', 'a b', 'a/b'],
  'Content-Type': [
    'application/json',
    'APPLICATION/JSON; charset=utf-8',
    'text/plain',
    'application/json, text/plain',
    'application/jsonx',
    'application/json;',
  ],
  Token: ['$TOKEN', '$ADMIN_TOKEN', 'nope', 'x'.repeat(257)],
  Username: ['fuzzer', 'FUZZER', 'admin', 'nobody'],
  Authorization: ['Bearer $SERVICE_TOKEN', 'bearer $SERVICE_TOKEN', 'Bearer nope', 'Bearer', 'Basic YTpi', `Bearer ${'t'.repeat(300)}`],
  Connection: ['close', 'keep-alive', 'Upgrade', 'keep-alive, Upgrade', 'CLOSE', 'close, close', 'Upgrade, close'],
  Upgrade: ['websocket', 'WebSocket', 'h2c', 'websocket, h2c', 'websocket/13'],
  'Sec-WebSocket-Key': ['dGhlIHNhbXBsZSBub25jZQ==', 'short', 'dGhlIHNhbXBsZSBub25jZQ', 'dGhlIHNhbXBsZSBub25jZQ===', '!!!!!!!!!!!!!!!!!!!!!!=='],
  'Sec-WebSocket-Version': ['13', '8', '12', '13, 8', 'x'],
  'Sec-WebSocket-Protocol': [
    'chatgate.v1',
    'chatgate.v1, token.$TOKEN, username.fuzzer',
    'token.$TOKEN, username.fuzzer',
    'chatgate.v1, token.x, username.fuzzer',
    'chatgate.v1,,x',
    'chatgate.v1, chatgate.v1',
    'a b',
    'é',
    `chatgate.v1, ${'p'.repeat(2_000)}`,
  ],
  'Sec-WebSocket-Extensions': ['permessage-deflate', 'permessage-deflate; client_max_window_bits', ';;'],
  Expect: ['100-continue', '100-Continue', 'weird'],
  Origin: ['http://127.0.0.1:$PORT', 'http://evil.example', 'null', 'not a url'],
  'X-Forwarded-For': ['1.2.3.4', '1.2.3.4, 5.6.7.8', 'garbage', '::1'],
  'User-Agent': ['fuzz/1.0', 'Zo\u00eb'],
  TE: ['trailers', 'gzip'],
  Cookie: ['a=b', 'token=$TOKEN'],
}

/** One header line: a known field with any of its values, a random one, or a malformed line. */
export const field: fc.Arbitrary<[string, string]> = fc.oneof(
  {
    arbitrary: fc
      .tuple(fc.constantFrom(...Object.keys(FIELDS)), fc.nat())
      .chain(([name, how]) => fc.tuple(fc.constant(recase(name, how)), headerValueOf(FIELDS[name]!))),
    weight: 8,
  },
  fc.tuple(fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,15}$/), headerValueOf(['v'])),
  fc.constantFrom<[string, string]>(
    ['Bad Name', 'x'],
    ['Bad:Name', 'x'],
    ['', 'empty name'],
    [' Leading', 'space'],
    ['X-Folded', 'a\r\n folded'],
    ['X-\u00e9', 'latin1 name'],
  ),
)

/** Credentials as a client may send them, right or wrong. */
export const credentials = fc.constantFrom<[string, string][]>(
  [
    ['Token', '$TOKEN'],
    ['Username', 'fuzzer'],
  ],
  [
    ['Token', '$ADMIN_TOKEN'],
    ['Username', 'admin'],
  ],
  [['Authorization', 'Bearer $SERVICE_TOKEN']],
  [
    ['Token', '$TOKEN'],
    ['Username', 'fuzzer'],
    ['Token', '$TOKEN'],
  ],
  [['Token', '$TOKEN']],
  [
    ['Token', '$ADMIN_TOKEN'],
    ['Username', 'fuzzer'],
  ],
  [
    ['Token', 'nope'],
    ['Username', 'fuzzer'],
  ],
  [],
)

// ── bodies ──

/** Strings for body fields: the run's real names and passwords, control characters, long ones, anything. */
const text = fc.oneof(
  { arbitrary: fc.constantFrom('fuzzer', 'admin', 'nobody', 'password-123', 'admin-password-123', 'fuzzer@example.com', 'Zoë 📱', ''), weight: 4 },
  fc.constantFrom('a\u0000b', 'a\u0085b', 'a\u009b31m', 'tab\there', '\ufffd'.repeat(8), '\ud800x', 'd'.repeat(65), 'p'.repeat(73), 'x'.repeat(300)),
  fc.string({ maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
)
const scalar = fc.oneof({ arbitrary: text, weight: 4 }, fc.integer(), fc.boolean(), fc.constant(null), fc.double())
/** Any small JSON value. */
export const anyJson: fc.Arbitrary<unknown> = fc.oneof(scalar, fc.array(scalar, { maxLength: 3 }), fc.dictionary(text, scalar, { maxKeys: 3 }))
const value = fc.oneof({ arbitrary: text, weight: 5 }, anyJson)
/** The right value most of the time, anything else sometimes. */
const mostly = (right: unknown) => fc.oneof({ arbitrary: fc.constant(right), weight: 3 }, value)
/** A fresh username for registrations (the rule's alphabet), sometimes a taken or broken one. */
const newName = fc.oneof({ arbitrary: fc.stringMatching(/^fz-[a-z0-9]{6}$/), weight: 3 }, value)

/** `levels` arrays, one inside the other, as JSON text (JSON.stringify of such a value overflows the stack). */
const deep = (n: number, open = '[', close = ']') => open.repeat(n) + close.repeat(n)

/** An object with some of `fields` (those in `required` always). */
const record = (fields: Record<string, fc.Arbitrary<unknown>>, required: string[]) =>
  fc.record(fields, { requiredKeys: required }) as fc.Arbitrary<Record<string, unknown>>
/** The JSON text of such an object. */
const object = (fields: Record<string, fc.Arbitrary<unknown>>, required: string[]) => record(fields, required).map((o) => JSON.stringify(o))

/**
 * JSON bodies of the real routes, by name: mostly right, so that requests get past validation. A new
 * password is only ever the same one or an invalid one, so the fuzzing user can always log in again.
 */
export const ROUTE_BODIES: Record<string, fc.Arbitrary<string>> = {
  login: object({ username: mostly('fuzzer'), password: mostly('password-123'), device_name: value }, ['username', 'password']),
  register: object({ username: newName, password: mostly('password-123'), device_name: value }, ['username', 'password']),
  password: object({ old_password: mostly('password-123'), new_password: fc.constantFrom('password-123', 'short', 'p'.repeat(73), 7, null) }, [
    'old_password',
    'new_password',
  ]),
  apiUser: object(
    {
      nickName: newName,
      email: newName.map((n) => (typeof n === 'string' ? `${n}@example.com` : n)),
      password: mostly('password-123'),
      profile: fc.oneof({ arbitrary: record({ firstName: value, lastName: value }, []), weight: 3 }, value),
      deviceName: value,
    },
    ['nickName', 'email', 'password'],
  ),
  apiSession: object({ email: mostly('fuzzer@example.com'), password: mostly('password-123'), deviceName: value }, ['email', 'password']),
  backoffice: object({ username: mostly('admin'), email: value, password: mostly('admin-password-123') }, ['password']),
  // Sometimes nested around the 32-level limit, or far past it (what JSON.stringify of the event would recurse into).
  push: fc.oneof(
    object({ data: anyJson }, ['data']),
    fc.constantFrom(30, 31, 32, 5_000, 7_000).map((n) => `{"data":${deep(n)}}`),
  ),
  proto: fc.constant('{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}'),
}

/** UTF-8 bytes of a string. */
export const utf8 = (s: string) => new Uint8Array(Buffer.from(s, 'utf8'))
const anyRouteBody = fc.oneof(...Object.values(ROUTE_BODIES))

/** A body: JSON for some route, then maybe broken (truncated, not UTF-8, deeply nested, a BOM, junk, too large). */
export const body: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.constant(new Uint8Array(0)),
  { arbitrary: anyRouteBody.map(utf8), weight: 3 },
  fc.tuple(anyRouteBody, fc.nat(), fc.constantFrom([0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0xf5, 0x80, 0x80, 0x80])).map(([text, at, bad]) => {
    const json = Buffer.from(text)
    const i = json.indexOf('"', at % json.length) + 1 || 1
    return new Uint8Array(Buffer.concat([json.subarray(0, i), Buffer.from(bad), json.subarray(i)]))
  }),
  fc.tuple(anyRouteBody, fc.nat()).map(([text, at]) => utf8(text.slice(0, at % text.length))),
  fc.constantFrom(31, 32, 33, 40, 5_000, 7_000).map((n) => utf8(`{"data":${deep(n)},"username":"fuzzer","password":"password-123"}`)),
  fc.constantFrom(31, 33, 2_000).map((n) => utf8(deep(n, '{"a":', '}').replace('{"a":}', '{"a":1}'))),
  fc.constantFrom('{', '{"a":', '[1,]', 'nul', '\ufeff{"data":1}', '{"data":1}{"data":2}', '"just a string"', '{"data":1e999999}', 'null').map(utf8),
  fc.uint8Array({ maxLength: 64 }),
  fc.constantFrom(16 * 1024 + 1, 40_000).map((n) => utf8(`{"data":"${'x'.repeat(n)}"}`)),
)

// ── framing ──

/** How the body is delimited; `delta` shifts a Content-Length from the truth (a lie about the length). */
export type Framing =
  | { kind: 'none' }
  | { kind: 'length'; delta: number }
  | { kind: 'raw-length'; values: string[] }
  | { kind: 'chunked'; te: string; pieces: number; flaw: ChunkFlaw; alsoLength: boolean }

/** What a chunked body gets wrong, if anything. */
export type ChunkFlaw = 'none' | 'extension' | 'trailer' | 'bad-size' | 'size-too-big' | 'no-last-chunk' | 'no-crlf'

/** Framings of a body: none, a Content-Length true or not, garbage lengths, chunked with or without flaws. */
export const framing: fc.Arbitrary<Framing> = fc.oneof(
  fc.constant<Framing>({ kind: 'none' }),
  fc.integer({ min: -20, max: 20 }).map<Framing>((delta) => ({ kind: 'length', delta })),
  fc
    .array(fc.constantFrom('-1', 'abc', '1e3', ' 5', '+5', '5, 5', '0x10', '99999999999999999999', '', '00'), { minLength: 1, maxLength: 2 })
    .map<Framing>((values) => ({ kind: 'raw-length', values })),
  {
    arbitrary: fc.record<Extract<Framing, { kind: 'chunked' }>>({
      kind: fc.constant('chunked'),
      te: fc.oneof(
        { arbitrary: fc.constant('chunked'), weight: 3 },
        fc.constantFrom('CHUNKED', 'gzip, chunked', 'chunked, gzip', 'identity', 'chunked, chunked', 'chunked\u0000'),
      ),
      pieces: fc.integer({ min: 1, max: 4 }),
      flaw: fc.oneof(
        { arbitrary: fc.constant<ChunkFlaw>('none'), weight: 3 },
        fc.constantFrom<ChunkFlaw>('extension', 'trailer', 'bad-size', 'size-too-big', 'no-last-chunk', 'no-crlf'),
      ),
      alsoLength: fc.boolean(),
    }),
    weight: 2,
  },
)
