import type { IncomingMessage } from 'node:http'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { readHandshakeCredentials } from '../src/gateway/credentials.js'
import { clientInfo } from '../src/request/client-info.js'
import { refuseBadHost } from '../src/request/header-check.js'
import { rawHeaderValues } from '../src/request/raw-headers.js'
import { codeOf } from './helpers/api-errors.js'

const raw = suite('request › headers read from rawHeaders')

/**
 * A request as node's parser hands it over, whose `headersDistinct` must never be built: reading it
 * throws (node builds that second object of every header on first read).
 */
function request(rawHeaders: string[]): IncomingMessage {
  const headers: Record<string, string> = {}
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase()
    headers[name] = name in headers ? `${headers[name]}, ${rawHeaders[i + 1]}` : rawHeaders[i + 1]!
  }
  const req = { rawHeaders, headers, httpVersionMajor: 1, httpVersionMinor: 1, socket: { remoteAddress: '10.0.0.9' } }
  Object.defineProperty(req, 'headersDistinct', {
    get() {
      throw new Error('headersDistinct was built')
    },
  })
  return req as unknown as IncomingMessage
}

raw('should return every value of a header in order, whatever the case of its name', () => {
  const req = request(['Host', 'a', 'X-Forwarded-For', '1.1.1.1', 'x-forwarded-FOR', '2.2.2.2', 'X-Other', 'z'])
  assert.equal(rawHeaderValues(req, 'x-forwarded-for'), ['1.1.1.1', '2.2.2.2'])
  assert.equal(rawHeaderValues(req, 'host'), ['a'])
  assert.equal(rawHeaderValues(req, 'token'), [])
})

raw('should read the Token and Username headers in any case without building headersDistinct', () => {
  assert.equal(readHandshakeCredentials(request(['Host', 'h', 'TOKEN', 't0k', 'username', 'alice'])), { token: 't0k', username: 'alice' })
  assert.is(readHandshakeCredentials(request(['Host', 'h'])), null)
  assert.is(
    codeOf(() => readHandshakeCredentials(request(['Host', 'h', 'Token', 'a', 'token', 'b', 'Username', 'alice']))),
    'BAD_REQUEST',
  )
  assert.is(
    codeOf(() => readHandshakeCredentials(request(['Host', 'h', 'Token', 'a']))),
    'UNAUTHORIZED',
  )
})

raw('should take the trusted proxy address from the last X-Forwarded-For header line', () => {
  const req = request(['Host', 'h', 'X-Forwarded-For', '6.6.6.6', 'x-forwarded-for', '7.7.7.7, 8.8.8.8', 'User-Agent', 'ua'])
  assert.equal(clientInfo(req, true), { ip: '8.8.8.8', userAgent: 'ua' })
  assert.equal(clientInfo(request(['Host', 'h']), true), { ip: '10.0.0.9', userAgent: '' })
  assert.equal(clientInfo(request(['Host', 'h', 'X-Forwarded-For', 'not-an-ip']), true), { ip: '10.0.0.9', userAgent: '' })
})

raw('should refuse a second Host header whatever its case', () => {
  assert.is(
    codeOf(() => refuseBadHost(request(['Host', 'example.com']))),
    null,
  )
  assert.is(
    codeOf(() => refuseBadHost(request(['Host', 'example.com', 'HOST', 'other.com']))),
    'BAD_REQUEST',
  )
  assert.is(
    codeOf(() => refuseBadHost(request([]))),
    'BAD_REQUEST',
  )
})

raw.run()
