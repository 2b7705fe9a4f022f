import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Browser, Page } from 'playwright-core'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { launchBrowser } from '../helpers/browser.js'
import { authHeaders, request } from '../helpers/http.js'
import { APP_PAGE } from '../helpers/sdk-page.js'
import { startServer, type TestServer } from '../helpers/server.js'

/**
 * A chat app on another origin (another port, listed in ALLOWED_ORIGINS) imports the node's
 * /client.js, signs up, logs in, connects, gets a welcome and a pushed event, and ends `revoked`
 * after a logout from Node; a page on a foreign origin (not listed) cannot sign in at all.
 * Needs the CORS answers of API.md § 2 (branch `cors`).
 */
const SERVICE_TOKEN = 'svc-token-0123456789-abcdefghijklmnop-cors'
const LIVE_MS = 20_000

let srv: TestServer
let browser: Browser
let page: Page
const pageServers: Server[] = []
const pageErrors: string[] = []

/** A plain page server on its own port: the app's origin. */
async function servePage(): Promise<string> {
  const s = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
    res.end(APP_PAGE(srv.url))
  })
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
  pageServers.push(s)
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`
}

let allowed = ''
let foreign = ''
test.before(async () => {
  allowed = await servePage()
  foreign = await servePage()
  srv = await startServer({ CHATGATE_SERVICE_TOKEN: SERVICE_TOKEN, ALLOWED_ORIGINS: allowed })
  browser = await launchBrowser()
  page = await browser.newPage()
  page.setDefaultTimeout(LIVE_MS)
  page.on('pageerror', (e) => pageErrors.push(e.message))
})
test.after(async () => {
  await browser?.close()
  await srv?.close()
  for (const s of pageServers) await new Promise((r) => s.close(r))
})

type Heard = { name: string; value: any }
const heard = () => page.evaluate<Heard[]>('window.heard')
async function waitHeard(name: string): Promise<Heard> {
  await page
    .waitForFunction((n) => (globalThis as any).heard.some((h: Heard) => h.name === n), name)
    .catch(async (e) => {
      throw new Error(`${e.message}\nwaiting for ${name}; heard ${JSON.stringify(await heard())}`)
    })
  return (await heard()).find((h) => h.name === name)!
}

test('client.js cross-origin › an allowed origin should sign up, connect, get welcome and an event, and end revoked', async () => {
  await page.goto(`${allowed}/app.html`)
  await page.waitForFunction('window.ready === true')
  const credentials = await page.evaluate<{ username: string; token: string }>(`window.app.start('crossuser')`)
  const welcome = await waitHeard('welcome')
  assert.is(welcome.value.username, 'crossuser')
  const pushed = await request(srv.url, 'POST', '/admin/users/crossuser/events', { body: { data: 42 }, headers: { Authorization: `Bearer ${SERVICE_TOKEN}` } })
  assert.is(pushed.status, 200)
  assert.is((await waitHeard('event')).value, 42)
  assert.is((await request(srv.url, 'DELETE', '/session', { headers: authHeaders(credentials.token, credentials.username) })).status, 200)
  assert.equal((await waitHeard('ended')).value, { reason: 'revoked', code: 4501 })
  assert.equal(pageErrors, [])
})

test('client.js cross-origin › a foreign origin should load /client.js but not be able to sign in', async () => {
  await page.goto(`${foreign}/app.html`)
  await page.waitForFunction('window.ready === true')
  const outcome = await page.evaluate<string>(`window.app.tryLogin('intruder')`)
  assert.match(outcome, /^ChatgateError /)
  assert.is.not(outcome, 'signed in')
  const taken = await request(srv.url, 'GET', '/user/checkUsername?username=intruder')
  assert.is(taken.body.result.available, true, 'the foreign page created no account')
})

test.run()
