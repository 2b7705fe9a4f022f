import { existsSync } from 'node:fs'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type Browser } from 'playwright-core'

/** Debian's Chromium (package `chromium`); playwright's own browser download cannot work here. */
export const CHROMIUM = process.env.CHATGATE_TEST_CHROMIUM ?? '/usr/bin/chromium'

/**
 * Launches headless Chromium through playwright-core. Without the browser the test fails with how
 * to install it (`.ci/run` installs it), never skips. The flags keep Chromium off the network
 * (it would try Google's hosts at every start) and work as root. `extraArgs` are appended.
 */
export async function launchBrowser(extraArgs: string[] = []): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`no Chromium at ${CHROMIUM}: install Debian's chromium package (apt-get install chromium) or set CHATGATE_TEST_CHROMIUM`)
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
      ...extraArgs,
    ],
  })
}

/** A folder for screenshots a person can open (printed by the tests that write them). */
export function screenshotDir(): string {
  return mkdtempSync(join(tmpdir(), 'chatgate-shots-'))
}
