import { Validator } from '@seriousme/openapi-schema-validator'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { request } from './helpers/http.js'
import { startServer, type TestServer } from './helpers/server.js'

let srv: TestServer

test.before(async () => {
  srv = await startServer()
})
test.after(async () => {
  await srv.close()
})

const docOf = async () => (await request(srv.url, 'GET', '/openapi.json')).body

test('openapi › should serve a document that is valid OpenAPI 3.1', async () => {
  const res = await request(srv.url, 'GET', '/openapi.json')
  assert.is(res.status, 200)
  assert.match(res.headers.get('content-type')!, /^application\/json/)
  const validator = new Validator()
  const result = await validator.validate(res.body)
  assert.ok(result.valid, JSON.stringify(result.errors, null, 2))
  assert.is(validator.version, '3.1')
})

test('openapi › should describe every registered route, and nothing else', async () => {
  const doc = await docOf()
  const described = Object.entries(doc.paths as Record<string, Record<string, unknown>>)
    .flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`))
    .sort()
  const registered = srv.app.routes.map((r) => `${r.spec.method} ${r.spec.path.replace(/:([A-Za-z_]+)/g, '{$1}')}`).sort()
  assert.equal(described, registered)
  assert.ok(registered.length >= 20, `${registered.length} routes`)
})

test('openapi › should name each operation once, with a summary and an error envelope', async () => {
  const doc = await docOf()
  const ops = Object.values(doc.paths as Record<string, Record<string, any>>).flatMap((m) => Object.values(m))
  const ids = ops.map((o) => o.operationId)
  assert.is(new Set(ids).size, ids.length, 'operationIds are unique')
  for (const op of ops) {
    assert.type(op.summary, 'string', op.operationId)
    assert.ok(op.responses.default, `${op.operationId} documents its errors`)
  }
})

test('openapi › should describe request bodies and query parameters from the validating schemas', async () => {
  const doc = await docOf()
  const login = doc.paths['/session'].post
  const body = login.requestBody.content['application/json'].schema
  assert.equal(body.required.sort(), ['password', 'username'])
  assert.ok(body.properties.device_name, 'device_name is described')
  const listing = doc.paths['/admin/devices'].get
  assert.equal(listing.parameters.map((p: { name: string }) => p.name).sort(), ['cursor', 'limit', 'username'])
  assert.equal(doc.paths['/admin/sessions/{session_id}'].delete.parameters, [{ name: 'session_id', in: 'path', required: true, schema: { type: 'string' } }])
  assert.ok(
    listing.security.some((s: Record<string, unknown>) => 'ServiceToken' in s),
    'the service token is an accepted scheme',
  )
})

test.run()
