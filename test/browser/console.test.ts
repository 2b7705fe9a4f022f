import { fileURLToPath } from 'node:url'
import type { Browser, Page } from 'playwright-core'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { launchBrowser } from '../helpers/browser.js'
import { authHeaders, login, registerUser, request } from '../helpers/http.js'
import { startServer, type TestServer } from '../helpers/server.js'
import { connectOk, within } from '../helpers/ws.js'

/** The console's screenshots are part of the docs (linked from the README): written here by this test. */
const DOCS = fileURLToPath(new URL('../../docs/', import.meta.url))
/** The contract's figure for a change to reach the page is 2 s; waits allow five times that. */
const LIVE_MS = 10_000
const XSS = '<img src=x onerror=alert(1)>'

let srv: TestServer
let browser: Browser
let page: Page
const alerts: string[] = []
const pageErrors: string[] = []

test.before(async () => {
  srv = await startServer()
  browser = await launchBrowser()
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } })
  page.on('dialog', (d) => {
    alerts.push(d.message())
    void d.dismiss()
  })
  page.setDefaultTimeout(LIVE_MS)
  page.on('pageerror', (e) => pageErrors.push(e.message))
  page.on('console', (m) => {
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) pageErrors.push(m.text())
  })
})
test.after(async () => {
  await browser?.close()
  await srv?.close()
})

const button = (name: string) => page.getByRole('button', { name, exact: true })
const row = (text: string | RegExp) => page.getByRole('row').filter({ hasText: text })
/** Clicks the confirm button of the open confirmation dialog. */
async function confirm(label: string) {
  const dialog = page.getByRole('dialog')
  await dialog.waitFor({ state: 'visible' })
  await dialog.getByRole('button', { name: label, exact: true }).click()
  await dialog.waitFor({ state: 'hidden' })
}
async function status(text: RegExp) {
  await page.getByRole('status').filter({ hasText: text }).waitFor({ timeout: LIVE_MS })
  return (await page.getByRole('status').textContent()) ?? ''
}

test('console › should serve the page with a strict CSP, no framing, nosniff, and refuse a non-admin login with the server message', async () => {
  const res = await fetch(`${srv.url}/console`)
  assert.is(res.status, 200)
  assert.match(res.headers.get('content-security-policy') ?? '', /^default-src 'self'; frame-ancestors 'none'/)
  assert.is(res.headers.get('x-content-type-options'), 'nosniff')
  assert.not.match(await res.text(), /<script>|<style>|\sstyle=|\son[a-z]+=/i, 'no inline script, style or handler')
  for (const asset of ['/console/console.js', '/console/console.css']) {
    const a = await fetch(srv.url + asset)
    assert.is(a.status, 200, asset)
    assert.is(a.headers.get('x-content-type-options'), 'nosniff')
  }

  await registerUser(srv.url, 'bob', 'password-123', XSS)
  const refused = await request(srv.url, 'POST', '/api/backoffice/session', { body: { username: 'bob', password: 'password-123' } })
  const message = refused.body.errors[0].title as string

  await page.goto(`${srv.url}/console`)
  await page.getByLabel('Username or email', { exact: true }).fill('bob')
  await page.getByLabel('Password', { exact: true }).fill('password-123')
  await button('Sign in').click()
  await page.getByRole('alert').filter({ hasText: message }).waitFor()
  assert.is(await page.evaluate<number>('sessionStorage.length + localStorage.length'), 0, 'nothing stored for a refused login')
})

test('console › should sign in, show a device connecting on the node live, as text, and revoke it with 4501', async () => {
  await page.getByLabel('Username or email', { exact: true }).fill('admin')
  await page.getByLabel('Password', { exact: true }).fill('admin-password-123')
  await button('Sign in').click()
  await page.getByRole('heading', { name: /Connected devices/ }).waitFor()
  await page.getByText('● live').waitFor({ timeout: LIVE_MS })
  assert.is(await page.evaluate<number>('localStorage.length'), 0, 'the token never goes to localStorage')
  assert.ok(await page.evaluate<boolean>("Boolean(sessionStorage.getItem('chatgate.console'))"))
  assert.not.match(page.url(), /token/i)

  const bob = await login(srv.url, 'bob', 'password-123', XSS)
  const { client } = await connectOk(srv.url, { token: bob.token, username: 'bob' })
  const device = row(XSS)
  await device.waitFor({ timeout: LIVE_MS })
  assert.ok((await device.textContent())?.includes(XSS), 'the device name is shown as its characters')
  assert.is(await page.locator('img').count(), 0, 'no element was made from the name')
  assert.equal(alerts, [])
  await page.screenshot({ path: `${DOCS}console-devices-1280.png` })

  await device.getByRole('button', { name: 'Revoke device' }).click()
  await confirm('Revoke device')
  assert.is((await within(client.closed, LIVE_MS, 'the revoked socket closes')).code, 4501)
  await status(/Revoked the device/)
  await device.waitFor({ state: 'detached', timeout: LIVE_MS })
})

test('console › should create a user, reset its password, disable and delete it, each after a confirmation', async () => {
  await button('Accounts').click()
  await page.getByLabel('New username').fill('carla')
  await button('Create account').click()
  await confirm('Create account')
  const created = await status(/Created carla/)
  const password = /shown once\): (\S+)/.exec(created)?.[1]
  assert.ok(password, 'the generated password is shown once')
  assert.is((await request(srv.url, 'POST', '/session', { body: { username: 'carla', password } })).status, 200)

  const carla = row(/^carla/)
  await carla.waitFor()
  await carla.getByRole('button', { name: 'Reset password' }).click()
  await confirm('Reset password')
  const reset = /shown once\): (\S+)/.exec(await status(/New password for carla/))?.[1]
  assert.ok(reset && reset !== password)
  assert.is((await request(srv.url, 'POST', '/session', { body: { username: 'carla', password: reset } })).status, 200)

  await carla.getByRole('button', { name: 'Disable' }).click()
  await confirm('Disable')
  await status(/Disabled carla/)
  await carla.getByText('disabled', { exact: true }).waitFor()
  assert.is((await request(srv.url, 'POST', '/session', { body: { username: 'carla', password: reset } })).status, 403)

  // Cancel changes nothing.
  await carla.getByRole('button', { name: 'Delete' }).click()
  await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click()
  assert.is((await request(srv.url, 'GET', '/user/checkUsername?username=carla')).body.result.available, false)

  await carla.getByRole('button', { name: 'Delete' }).click()
  await confirm('Delete account')
  await status(/Deleted carla/)
  await carla.waitFor({ state: 'detached' })
  assert.is((await request(srv.url, 'GET', '/user/checkUsername?username=carla')).body.result.available, true)

  // The server's message for a refused action, and nothing shown as done.
  await row(/^admin/)
    .getByRole('button', { name: 'Make user' })
    .click()
  await confirm('Make user')
  await page.getByRole('status').filter({ hasText: 'last enabled admin' }).waitFor()
  assert.is(await page.getByRole('status').getAttribute('class'), 'error')
  await row(/^admin/)
    .getByRole('button', { name: 'Make user' })
    .waitFor()
})

test('console › should show those actions in the audit trail', async () => {
  await button('Audit').click()
  for (const [action, target] of [
    ['create_user', 'carla'],
    ['reset_password', 'carla'],
    ['disable_user', 'carla'],
    ['delete_user', 'carla'],
    ['revoke_session', ''],
  ] as const) {
    await row(new RegExp(`admin\\s*http\\s*${action}\\s*${target}`))
      .first()
      .waitFor({ timeout: LIVE_MS })
  }
  assert.is(await row(/set_role_user/).count(), 0, 'a refused action is not on record')
})

test('console › should reach and activate every button with the keyboard alone', async () => {
  await registerUser(srv.url, 'kim')
  const kim = await login(srv.url, 'kim')
  const { client } = await connectOk(srv.url, { token: kim.token, username: 'kim' })
  await button('Devices').click()
  await row(/^kim/).waitFor({ timeout: LIVE_MS })
  for (const view of ['Devices', 'Accounts', 'Nodes', 'Audit']) {
    await page.locator('body').focus()
    const viewButton = button(view)
    // Tab to the view's button and press Enter on it.
    await tabTo(viewButton)
    await page.keyboard.press('Enter')
    assert.is(await viewButton.getAttribute('aria-current'), 'true', view)
    // Every button of the view, reached with Tab; each one activated with Enter (the confirmation opens, Escape cancels).
    const names = await buttonsOfView()
    for (const handle of names) {
      await tabTo(handle.locator)
      if (handle.danger) {
        await page.keyboard.press('Enter')
        await page.getByRole('dialog').waitFor()
        await page.keyboard.press('Escape')
        await page.getByRole('dialog').waitFor({ state: 'hidden' })
      }
    }
  }
  assert.is(client.closeInfo, null, 'nothing was done by cancelled confirmations')
  await client.ws.close()
})

/** Presses Tab until `target` has the focus (at most 200 times). */
async function tabTo(target: ReturnType<Page['locator']>) {
  for (let i = 0; i < 200; i++) {
    if (await target.evaluate((el) => el === (globalThis as any).document.activeElement)) return
    await page.keyboard.press('Tab')
  }
  assert.unreachable(`could not reach ${await target.textContent()} with Tab`)
}

/** The visible buttons of the page; the row actions open a confirmation when activated. */
async function buttonsOfView() {
  const all = page.getByRole('button')
  const out: { locator: ReturnType<Page['locator']>; danger: boolean }[] = []
  for (let i = 0; i < (await all.count()); i++) {
    const b = all.nth(i)
    if (!(await b.isVisible())) continue
    out.push({ locator: b, danger: (await b.evaluate((el) => el.closest('td') !== null)) as boolean })
  }
  return out
}

test('console › should be readable at 390 px and write its screenshots', async () => {
  // A reload keeps the sign-in (sessionStorage) and starts with a clean status line.
  await page.reload()
  await page.getByText('● live').waitFor()
  await page.setViewportSize({ width: 1280, height: 800 })
  await button('Accounts').click()
  await page.screenshot({ path: `${DOCS}console-accounts-1280.png` })
  await page.setViewportSize({ width: 390, height: 844 })
  await button('Devices').click()
  await page.screenshot({ path: `${DOCS}console-devices-390.png`, fullPage: true })
  const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth')
  assert.ok(overflow <= 0, `the page does not scroll sideways at 390 px (${overflow} px)`)
  await button('Audit').click()
  await page.screenshot({ path: `${DOCS}console-audit-390.png`, fullPage: true })
})

test('console › should sign out by deleting the backoffice session', async () => {
  const saved = await page.evaluate<any>("JSON.parse(sessionStorage.getItem('chatgate.console') ?? 'null')")
  assert.ok(saved?.token)
  await button('Sign out').click()
  await page.getByRole('heading', { name: 'chatgate console' }).first().waitFor()
  await page.getByLabel('Username or email', { exact: true }).waitFor()
  assert.is(await page.evaluate<number>('sessionStorage.length'), 0)
  const after = await request(srv.url, 'GET', '/admin/devices', { headers: authHeaders(saved.token, saved.username) })
  assert.is(after.status, 401, 'the backoffice session is gone on the server')
  assert.equal(pageErrors, [], 'no script error and no CSP violation')
  assert.equal(alerts, [])
})

test.run()
