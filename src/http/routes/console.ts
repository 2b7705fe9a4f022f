import { createHash } from 'node:crypto'
import type { WebAsset, WebEntry } from '../../web/assets.js'
import { route, type Route } from '../route.js'

/** What the console page is built from (src/console/page/), bundled by esbuild at start. */
export const CONSOLE_ENTRIES: Record<string, WebEntry> = {
  'console.js': { source: 'console/page/console.ts', contentType: 'text/javascript; charset=utf-8' },
  'console.css': { source: 'console/page/console.css', contentType: 'text/css; charset=utf-8' },
}

/**
 * Headers of every console answer: scripts and styles from this origin only (no inline code at
 * all), never framed, no MIME sniffing, no referrer, nothing cached by a shared cache.
 */
export const CONSOLE_HEADERS: Record<string, string> = {
  'content-security-policy': "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
}

/** The page itself: structure only; everything it shows is filled in by console.js as text. */
const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>chatgate console</title>
<link rel="stylesheet" href="/console/console.css">
<script type="module" src="/console/console.js"></script>
</head>
<body>
<section id="signin" class="signin" aria-labelledby="signin-title">
  <h1 id="signin-title">chatgate console</h1>
  <form id="signin-form">
    <label>Username or email<input id="signin-user" name="username" autocomplete="username" required></label>
    <label>Password<input id="signin-password" name="password" type="password" autocomplete="current-password" required></label>
    <button class="primary" type="submit">Sign in</button>
    <p id="signin-error" class="error" role="alert"></p>
  </form>
</section>
<div id="app" hidden>
  <header>
    <h1>chatgate console</h1>
    <nav aria-label="Views">
      <button type="button" id="tab-devices">Devices</button>
      <button type="button" id="tab-accounts">Accounts</button>
      <button type="button" id="tab-nodes">Nodes</button>
      <button type="button" id="tab-audit">Audit</button>
    </nav>
    <span id="live" class="live off">○ connecting…</span>
    <span id="whoami" class="muted"></span>
    <button type="button" id="signout">Sign out</button>
  </header>
  <main>
    <p id="status" role="status" tabindex="-1"></p>
    <section id="view-devices" aria-labelledby="devices-title">
      <h2 id="devices-title">Connected devices <span id="device-count" class="muted"></span></h2>
      <div class="toolbar"><label>Filter by user<input id="device-filter" type="search" autocomplete="off"></label></div>
      <div id="devices"></div>
    </section>
    <section id="view-accounts" aria-labelledby="accounts-title" hidden>
      <h2 id="accounts-title">Accounts</h2>
      <form id="create-form" class="toolbar" aria-label="Create an account">
        <label>New username<input id="create-username" required autocomplete="off"></label>
        <label>Email (optional)<input id="create-email" type="email" autocomplete="off"></label>
        <label>Password (blank: generated)<input id="create-password" type="password" autocomplete="new-password"></label>
        <label>Role<select id="create-role"><option value="user">user</option><option value="admin">admin</option></select></label>
        <button class="primary" type="submit">Create account</button>
      </form>
      <div class="toolbar">
        <label>Search accounts<input id="account-search" type="search" autocomplete="off"></label>
        <label>Role<select id="account-role"><option value="">any</option><option value="user">user</option><option value="admin">admin</option></select></label>
        <label>State<select id="account-state"><option value="">any</option><option value="enabled">enabled</option><option value="disabled">disabled</option></select></label>
      </div>
      <div id="accounts"></div>
    </section>
    <section id="view-nodes" aria-labelledby="nodes-title" hidden>
      <h2 id="nodes-title">Nodes</h2>
      <div id="nodes"></div>
    </section>
    <section id="view-audit" aria-labelledby="audit-title" hidden>
      <h2 id="audit-title">Audit trail</h2>
      <div id="audit"></div>
    </section>
  </main>
</div>
<dialog id="confirm" aria-labelledby="confirm-title">
  <h2 id="confirm-title">Please confirm</h2>
  <p id="confirm-text"></p>
  <div class="buttons"><button type="button" id="confirm-no">Cancel</button><button type="button" id="confirm-yes" class="primary">Confirm</button></div>
</dialog>
</body>
</html>
`
const PAGE_ETAG = `"${createHash('sha256').update(PAGE).digest('base64url').slice(0, 27)}"`

/** `GET /console` and its two bundled files; `assets` is the build started with the app. */
export function consoleRoutes(assets: Promise<Map<string, WebAsset>>): Route[] {
  const file = (name: string) =>
    route(
      {
        id: name === 'console.js' ? 'consoleScript' : 'consoleStyles',
        method: 'GET',
        path: `/console/${name}`,
        dialect: 'nullptr',
        auth: 'none',
        summary: `The operator console's ${name === 'console.js' ? 'script' : 'styles'} (built from src/console/page/ at start).`,
        response: { status: 200, contentType: CONSOLE_ENTRIES[name]!.contentType },
      },
      async () => {
        const asset = (await assets).get(name)!
        return { text: asset.body, etag: asset.etag, headers: CONSOLE_HEADERS }
      },
    )
  return [
    route(
      {
        id: 'console',
        method: 'GET',
        path: '/console',
        dialect: 'nullptr',
        auth: 'none',
        summary: 'The operator console: a page for admins (sign-in with a backoffice login), same-origin only.',
        response: { status: 200, contentType: 'text/html; charset=utf-8' },
      },
      async () => ({ text: PAGE, etag: PAGE_ETAG, headers: CONSOLE_HEADERS }),
    ),
    file('console.js'),
    file('console.css'),
  ]
}
