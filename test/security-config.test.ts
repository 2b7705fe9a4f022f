import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ConfigError, loadConfig } from '../src/config.js'

test('config › should default the abuse and HTTP limits to the documented values', () => {
  const config = loadConfig({})
  assert.equal(config.limits, { loginPerAccountPerMin: 10, loginPerIpPerMin: 30, registerPerIpPerHour: 10, upgradesPerIpPerMin: 120 })
  assert.equal(config.http, {
    headersTimeoutMs: 10_000,
    requestTimeoutMs: 30_000,
    maxHeaderBytes: 16_384,
    keepAliveTimeoutMs: 5_000,
    maxRequestsPerSocket: 1000,
  })
  assert.is(config.hashQueueMax, 1000)
})

test('config › should refuse a headers timeout longer than the request timeout, and limits of zero', () => {
  assert.throws(
    () => loadConfig({ HTTP_HEADERS_TIMEOUT_MS: '20000', HTTP_REQUEST_TIMEOUT_MS: '10000' }),
    (e: unknown) => e instanceof ConfigError && /HTTP_HEADERS_TIMEOUT_MS/.test(e.message),
  )
  for (const name of [
    'LOGIN_ATTEMPTS_PER_ACCOUNT_PER_MIN',
    'LOGIN_ATTEMPTS_PER_IP_PER_MIN',
    'REGISTRATIONS_PER_IP_PER_HOUR',
    'UPGRADES_PER_IP_PER_MIN',
    'HTTP_MAX_REQUESTS_PER_SOCKET',
  ]) {
    assert.throws(
      () => loadConfig({ [name]: '0' }),
      (e: unknown) => e instanceof ConfigError && e.message.includes(name),
      `${name}=0 was accepted`,
    )
  }
})

test.run()
