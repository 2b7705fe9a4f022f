import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { launchBrowser } from '../helpers/browser.js'

test('browser › should drive headless Chromium to a page and read it by role', async () => {
  const page = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
    res.end('<!doctype html><title>smoke</title><main><h1>chatgate</h1><button>Press</button></main>')
  })
  await new Promise<void>((resolve) => page.listen(0, '127.0.0.1', resolve))
  const browser = await launchBrowser()
  try {
    const tab = await browser.newPage()
    await tab.goto(`http://127.0.0.1:${(page.address() as AddressInfo).port}/`)
    assert.is(await tab.getByRole('heading', { name: 'chatgate' }).textContent(), 'chatgate')
    assert.ok(await tab.getByRole('button', { name: 'Press' }).isVisible())
  } finally {
    await browser.close()
    page.close()
  }
})

test.run()
