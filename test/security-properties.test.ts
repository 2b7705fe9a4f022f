import fc from 'fast-check'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { checkPasswordRule, isComparablePassword, isValidUsername, normalizeUsername, parseEmail, parseUsername } from '../src/auth/rules.js'
import { ApiError, ErrorStatus, type ErrorCode } from '../src/errors.js'
import { request } from './helpers/http.js'
import { startServer, type TestServer } from './helpers/server.js'

/** Runs `fn` and returns the ApiError code it threw, null when it returned; any other throw fails. */
function codeOf(fn: () => unknown): ErrorCode | null {
  try {
    fn()
    return null
  } catch (e) {
    if (e instanceof ApiError) return e.code
    throw e
  }
}

const utf8Bytes = (s: string) => new TextEncoder().encode(s).length

/** The contract's username rule written out by hand, independent of the regex in rules.ts. */
function modelUsername(input: string): string | null {
  let out = ''
  for (const ch of input) {
    const code = ch.charCodeAt(0)
    out += ch.length === 1 && code >= 65 && code <= 90 ? String.fromCharCode(code + 32) : ch
  }
  const allowed = (ch: string) => (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch === '_' || ch === '-'
  if (out.length < 3 || out.length > 32 || out.startsWith('_') || ![...out].every(allowed)) return null
  return out
}

// Strings near the accepted space (the rule's alphabet in both cases, some look-alikes) and anywhere else.
const ruleAlphabet = fc.constantFrom(...'abcXYZ019_-'.split(''))
const usernameish = fc.oneof(
  fc.string({ unit: ruleAlphabet, maxLength: 40 }),
  // Every length around the 3 and 32 limits equally often, not only the short strings fast-check favours.
  fc.integer({ min: 1, max: 36 }).chain((n) => fc.string({ unit: ruleAlphabet, minLength: n, maxLength: n })),
  fc.string({ unit: fc.constantFrom(...'aZ_-\u0131\u0130\uff21é\u00a0 \t'.split('')), maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 80 }),
)

const rules = suite('properties: validators')

rules('properties › parseUsername should accept exactly the contract rule and only ever throw INVALID_USERNAME', () => {
  fc.assert(
    fc.property(usernameish, (input) => {
      const code = codeOf(() => parseUsername(input))
      const expected = modelUsername(input)
      if (expected === null) return code === 'INVALID_USERNAME'
      return code === null && parseUsername(input) === expected && isValidUsername(expected) && parseUsername(expected) === expected
    }),
    { numRuns: 300 },
  )
})

rules('properties › normalizeUsername should lowercase ASCII letters and change nothing else', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 60 }), (input) => {
      const out = normalizeUsername(input)
      if (out.length !== input.length) return false
      for (let i = 0; i < input.length; i++) {
        const a = input.charCodeAt(i)
        const b = out.charCodeAt(i)
        if (a >= 65 && a <= 90 ? b !== a + 32 : b !== a) return false
      }
      return true
    }),
    { numRuns: 300 },
  )
})

rules('properties › checkPasswordRule should accept exactly 8 to 72 bytes of UTF-8, whatever the characters', () => {
  const password = fc.oneof(fc.string({ unit: 'binary', maxLength: 80 }), fc.string({ unit: 'grapheme', maxLength: 40 }), fc.string({ maxLength: 90 }))
  fc.assert(
    fc.property(password, (p) => {
      const bytes = utf8Bytes(p)
      const code = codeOf(() => checkPasswordRule(p))
      const ok = bytes >= 8 && bytes <= 72
      return (ok ? code === null : code === 'INVALID_PASSWORD') && isComparablePassword(p) === bytes <= 72
    }),
    { numRuns: 300 },
  )
})

rules('properties › parseEmail should return a trimmed, lowercased, single-@ address or throw BAD_REQUEST', () => {
  const email = fc.oneof(
    fc.emailAddress(),
    fc.string({ unit: 'binary', maxLength: 300 }),
    fc.tuple(fc.emailAddress(), fc.constantFrom(' ', '\t', 'X')).map(([e, pad]) => pad + e.toUpperCase() + pad),
  )
  fc.assert(
    fc.property(email, (input) => {
      const code = codeOf(() => parseEmail(input))
      if (code !== null) return code === 'BAD_REQUEST'
      const out = parseEmail(input)
      return out === out.toLowerCase() && out === out.trim() && out.length <= 254 && out.split('@').length === 2 && !/\s/.test(out) && parseEmail(out) === out
    }),
    { numRuns: 300 },
  )
})

rules.run()

// ── the JSON body reader and every body-taking route, against a real server ──

const bodies = suite('properties: request bodies')
let srv: TestServer

bodies.before(async () => {
  srv = await startServer()
})
bodies.after(async () => {
  await srv.close()
})

const routes = [
  ['POST', '/session'],
  ['POST', '/user/register'],
  ['PUT', '/user/password'],
  ['DELETE', '/session'],
  ['POST', '/api/session'],
  ['POST', '/api/user'],
  ['POST', '/api/backoffice/session'],
  ['POST', '/healthz'],
  ['POST', '/no/such/route'],
] as const

const contentTypes = fc.oneof(
  fc.constantFrom(
    'application/json',
    'application/json; charset=utf-8',
    'Application/JSON',
    'text/plain',
    'application/jsonx',
    '',
    'multipart/form-data; boundary=x',
  ),
  fc.string({ unit: fc.constantFrom(...'abc/;=-+ json'.split('')), maxLength: 30 }),
)

const fieldValue = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 100 }),
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom('password-123', 'admin-password-123', 'admin', 'prop-user', 'prop@example.com'),
)
const shapedBody = fc
  .record(
    {
      username: fieldValue,
      password: fieldValue,
      email: fieldValue,
      nickName: fieldValue,
      device_name: fieldValue,
      old_password: fieldValue,
      new_password: fieldValue,
      profile: fc.oneof(fieldValue, fc.record({ firstName: fieldValue, lastName: fieldValue })),
    },
    { requiredKeys: [] },
  )
  .map((o) => JSON.stringify(o))
// The same bodies, some with prototype keys spliced into the JSON text (an object literal cannot carry them).
const pollutingBody = fc.tuple(shapedBody, fc.boolean()).map(([text, pollute]) => {
  if (!pollute) return text
  const keys = '"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted2":true}}'
  return text === '{}' ? `{${keys}}` : `{${keys},${text.slice(1)}`
})
const rawBody = fc.oneof(
  pollutingBody,
  fc.json({ maxDepth: 3 }),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.constantFrom('', '{', 'null', '[]', '"x"', '1e999', '{"__proto__":{"polluted":1}}', '{"constructor":{"prototype":{"polluted":1}}}'),
  fc.integer({ min: 15 * 1024, max: 18 * 1024 }).map((n) => JSON.stringify({ username: 'x'.repeat(n), password: 'password-123' })),
)
const credentials = fc.option(
  fc.record({
    Token: fc.string({ unit: fc.constantFrom(...'abcXYZ-_09'.split('')), minLength: 1, maxLength: 50 }),
    Username: fc.constantFrom('admin', 'nobody', 'a'),
  }),
  { nil: undefined },
)

/** Asserts the response is the contract envelope of the path's dialect with a status its code maps to. */
function assertEnvelope(path: string, status: number, body: any): void {
  const context = `${status} ${JSON.stringify(body).slice(0, 200)}`
  assert.ok(status !== 500 && status < 600, `server error: ${context}`)
  if (path.startsWith('/api/')) {
    if (status < 400) {
      assert.ok(Array.isArray(body.data) && Array.isArray(body.includes), context)
      return
    }
    assert.equal(Object.keys(body), ['errors'], context)
    const [e] = body.errors
    assert.is(e.status, String(status), context)
    assert.is(ErrorStatus[e.code as ErrorCode], status, context)
    return
  }
  assert.equal(Object.keys(body).sort(), ['error', 'error_info', 'result'], context)
  if (status < 400) {
    assert.is(body.error, false, context)
    return
  }
  assert.is(body.error, true, context)
  assert.is(ErrorStatus[body.error_info.error_code as ErrorCode], status, context)
}

bodies('properties › random bodies, content types and sizes should never produce a 500 and always the dialect envelope', async () => {
  const prototypeBefore = Object.getOwnPropertyNames(Object.prototype).sort()
  const statuses = new Set<number>()
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...routes), contentTypes, rawBody, credentials, async ([method, path], contentType, raw, creds) => {
      const res = await request(srv.url, method, path, { raw, headers: { 'content-type': contentType, ...creds } })
      statuses.add(res.status)
      assertEnvelope(path, res.status, res.body)
    }),
    {
      numRuns: 250,
      // Always run one of each refusal besides the random ones (413 needs a rare combination).
      examples: [
        [['POST', '/session'], 'application/json', JSON.stringify({ username: 'x'.repeat(17 * 1024), password: 'p' }), undefined],
        [['POST', '/api/user'], 'text/plain', '{}', undefined],
        [['POST', '/user/register'], 'application/json', '{"__proto__":{"polluted":true},"username":"prop-user","password":"password-123"}', undefined],
        [['PUT', '/user/password'], 'application/json', '{', { Token: 'abc', Username: 'admin' }],
      ],
    },
  )
  assert.equal(Object.getOwnPropertyNames(Object.prototype).sort(), prototypeBefore)
  // The runs did reach past the reader: refusals of several kinds, not one error for everything.
  for (const expected of [400, 413, 415]) assert.ok(statuses.has(expected), `no run produced ${expected}: ${[...statuses]}`)
})

bodies.run()
