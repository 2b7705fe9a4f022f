import fc from 'fast-check'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { ErrorStatus, type ErrorCode } from '../src/errors.js'
import { request } from './helpers/http.js'
import { startServer, type TestServer } from './helpers/server.js'

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
