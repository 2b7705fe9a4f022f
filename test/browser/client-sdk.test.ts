import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { launchBrowser } from '../helpers/browser.js'
import { APP_PAGE } from '../helpers/sdk-page.js'
import { authHeaders, request } from '../helpers/http.js'
import { startServer, type TestServer } from '../helpers/server.js'

/**
 * /client.js in Chromium, same origin as the node (the page is answered by the test on the node's
 * own origin): register, log in, connect with subprotocol credentials, a welcome, a pushed event, a
 * node restart survived, and `revoked` after a logout from Node. The cross-origin variant (page on
 * another port, ALLOWED_ORIGINS) is client-cross-origin.test.ts.
 */
const SERVICE_TOKEN = 'svc-token-0123456789-abcdefghijklmnop-sdk'
const LIVE_MS = 20_000

let srv: TestServer
const dir = mkdtempSync(join(tmpdir(), 'chatgate-sdk-browser-'))
let browser: Browser
let page: Page
const pageErrors: string[] = []

test.before(async () => {
  srv = await startServer({ CHATGATE_SERVICE_TOKEN: SERVICE_TOKEN }, { dir }) // a dir of our own: kept across the restart
  // The page is answered by the test (page.route), so Chromium cannot tell it comes from a loopback
  // address and would refuse its sockets to 127.0.0.1 as a public page's (Local Network Access).
  browser = await launchBrowser(['--disable-features=LocalNetworkAccessChecks'])
  page = await browser.newPage()
  page.setDefaultTimeout(LIVE_MS)
  page.on('pageerror', (e) => pageErrors.push(e.message))
  // The browser's own lines for the sockets refused while the node restarts are expected; nothing else.
  page.on('console', (m) => {
    if (m.type() === 'error' && !/^WebSocket connection to .* failed|Failed to load resource/.test(m.text())) pageErrors.push(m.text())
  })
})
test.after(async () => {
  await browser?.close()
  await srv?.close()
  rmSync(dir, { recursive: true, force: true })
})

type Heard = { name: string; value: any }
const heard = () => page.evaluate<Heard[]>('window.heard')
async function waitHeard(name: string, count = 1): Promise<Heard[]> {
  await page
    .waitForFunction(([n, c]) => (globalThis as any).heard.filter((h: Heard) => h.name === n).length >= c, [name, count] as const)
    .catch(async (e) => {
      throw new Error(`${e.message}\nwaiting for ${count} ${name}; heard ${JSON.stringify(await heard())}; page errors ${JSON.stringify(pageErrors)}`)
    })
  return (await heard()).filter((h) => h.name === name)
}

test('client.js in Chromium › should register, log in, connect, get welcome and a pushed event, survive a restart, and end revoked', async () => {
  await page.route(`${srv.url}/app.html`, (route) => route.fulfill({ contentType: 'text/html', body: APP_PAGE(srv.url) }))
  await page.goto(`${srv.url}/app.html`)
  await page.waitForFunction('window.ready === true')
  const credentials = await page.evaluate<{ username: string; token: string }>(`window.app.start('browseruser')`)
  assert.is(credentials.username, 'browseruser')
  const [welcome] = await waitHeard('welcome')
  assert.is(welcome!.value.username, 'browseruser')

  const pushed = await request(srv.url, 'POST', '/admin/users/browseruser/events', {
    body: { data: { hello: 'page' } },
    headers: { Authorization: `Bearer ${SERVICE_TOKEN}` },
  })
  assert.is(pushed.status, 200, JSON.stringify(pushed.body))
  const [event] = await waitHeard('event')
  assert.equal(event!.value, { hello: 'page' })

  // A restart on the same port and data: 1001, then a fresh welcome by itself.
  const { port } = srv
  await srv.close()
  srv = await startServer({ CHATGATE_SERVICE_TOKEN: SERVICE_TOKEN, PORT: String(port) }, { dir })
  const welcomes = await waitHeard('welcome', 2)
  assert.is.not(welcomes[1]!.value.connectionId, welcomes[0]!.value.connectionId)
  assert.is(welcomes[1]!.value.sessionId, welcomes[0]!.value.sessionId)

  // A logout from Node with the page's own credentials: 4501 → ended revoked, credentials dropped.
  const out = await request(srv.url, 'DELETE', '/session', { headers: authHeaders(credentials.token, credentials.username) })
  assert.is(out.status, 200)
  const [ended] = await waitHeard('ended')
  assert.equal(ended!.value, { reason: 'revoked', code: 4501 })
  assert.is(await page.evaluate('window.client.credentials'), null)
  const states = (await heard()).filter((h) => h.name === 'state').map((h) => h.value)
  assert.equal(states, ['open', 'reconnecting', 'open', 'ended'])
  assert.equal(pageErrors, [])
})

test.run()
