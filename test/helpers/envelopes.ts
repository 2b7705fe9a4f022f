import * as assert from 'uvu/assert'
import type { Res } from './http.js'

/** Asserts a nullptr-dialect error: the status, the code, and the exact envelope shape. */
export function assertNullptrError(res: Res, status: number, code: string): void {
  assert.is(res.status, status, `expected ${status} ${code}, got ${res.status} ${JSON.stringify(res.body)}`)
  assert.equal(Object.keys(res.body).sort(), ['error', 'error_info', 'result'])
  assert.is(res.body.error, true)
  assert.is(res.body.result, null)
  assert.is(res.body.error_info.error_code, code)
  assert.type(res.body.error_info.description, 'string')
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/)
}

/** Asserts a Dialogram-dialect error: `{errors: [{status, code, title}]}` and nothing else. */
export function assertDialogramError(res: Res, status: number, code: string): void {
  assert.is(res.status, status, `expected ${status} ${code}, got ${res.status} ${JSON.stringify(res.body)}`)
  assert.equal(Object.keys(res.body), ['errors'])
  assert.is(res.body.errors.length, 1)
  assert.equal(Object.keys(res.body.errors[0]).sort(), ['code', 'status', 'title'])
  assert.is(res.body.errors[0].status, String(status))
  assert.is(res.body.errors[0].code, code)
  assert.type(res.body.errors[0].title, 'string')
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/)
}

/** Asserts a nullptr-dialect success and returns its result. */
export function nullptrResult(res: Res, status = 200): any {
  assert.is(res.status, status, `expected ${status}, got ${res.status} ${JSON.stringify(res.body)}`)
  assert.equal(Object.keys(res.body).sort(), ['error', 'error_info', 'result'])
  assert.is(res.body.error, false)
  assert.is(res.body.error_info, null)
  return res.body.result
}
