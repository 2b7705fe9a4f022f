/**
 * The operator console (served at /console, bundled by src/web/assets.ts at start). No framework:
 * the DOM is built with createElement and every value from the server is set as textContent, so
 * a device named `<img src=x onerror=…>` is shown as those characters and never parsed as HTML.
 */

// biome-ignore lint/suspicious/noExplicitAny: the answers are the admin API's JSON, read field by field
type Json = Record<string, any>
interface Credentials {
  token: string
  username: string
}

const STORAGE_KEY = 'chatgate.console'
const PAGE = 200
/** Close code of a revoked session (the feed's own session was signed out elsewhere). */
const SESSION_REVOKED = 4501

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T

// ── DOM helpers: text only ────────────────────────────────────────────────────────────────────
type Child = Node | string | null | undefined | false
function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Record<string, string> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag)
  for (const [k, v] of Object.entries(props)) {
    if (k === 'class') node.className = v
    else node.setAttribute(k, v)
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) node.append(typeof c === 'string' ? document.createTextNode(c) : c)
  return node
}
function button(label: string, onClick: () => void, cls = ''): HTMLButtonElement {
  const b = el('button', { type: 'button', ...(cls ? { class: cls } : {}) }, label)
  b.addEventListener('click', onClick)
  return b
}
const when = (iso: string) => {
  const d = new Date(iso)
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString()
}
function table(headers: string[], rows: Node[][], empty: string): Node {
  if (rows.length === 0) return el('p', { class: 'empty' }, empty)
  const head = el('tr', {}, ...headers.map((h) => el('th', { scope: 'col' }, h)))
  // Each cell carries its column's name: narrow screens show rows as cards labelled by it (CSS).
  const body = rows.map((cells) =>
    el(
      'tr',
      {},
      ...cells.map((c, i) => {
        if (c instanceof HTMLElement) c.dataset.label = headers[i] ?? ''
        return c
      }),
    ),
  )
  return el('div', { class: 'table-wrap' }, el('table', {}, el('thead', {}, head), el('tbody', {}, ...body)))
}
const present = (...nodes: Child[]): (Node | string)[] => nodes.filter((n): n is Node | string => Boolean(n))
const td = (text: string, cls = '') => el('td', cls ? { class: cls } : {}, text)

// ── session ───────────────────────────────────────────────────────────────────────────────────
function loadCredentials(): Credentials | null {
  try {
    const raw = sessionStorage.getItem(STORAGE_KEY)
    const v = raw ? (JSON.parse(raw) as Credentials) : null
    return v && typeof v.token === 'string' && typeof v.username === 'string' ? v : null
  } catch {
    return null
  }
}
let creds: Credentials | null = loadCredentials()

class ApiFailure extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message)
  }
}

/** Calls an admin route with the session's Token/Username; throws ApiFailure with the server's message. */
async function api(method: string, path: string, body?: unknown): Promise<Json> {
  if (!creds) throw new ApiFailure('Not signed in.', 401)
  const headers: Record<string, string> = { Token: creds.token, Username: creds.username }
  if (body !== undefined) headers['content-type'] = 'application/json'
  const res = await fetch(path, { method, headers, body: body === undefined ? null : JSON.stringify(body), cache: 'no-store' })
  const json = (await res.json().catch(() => null)) as Json | null
  if (res.status === 401) {
    endSession('Your session has ended: sign in again.')
    throw new ApiFailure(json?.error_info?.description ?? 'Unauthorized.', 401)
  }
  if (!res.ok || !json || json.error) throw new ApiFailure(json?.error_info?.description ?? `The server answered ${res.status}.`, res.status)
  return json.result as Json
}

// ── status line ──────────────────────────────────────────────────────────────────────────────
function showStatus(kind: 'done' | 'error' | '', ...parts: Child[]): void {
  const status = $('status')
  status.className = kind
  status.replaceChildren(...parts.filter((p): p is Node | string => Boolean(p)))
}

// ── confirmation ─────────────────────────────────────────────────────────────────────────────
/** Asks in a modal dialog; resolves true only on the confirm button. Escape or Cancel → false. */
function confirmAction(question: string, confirmLabel: string): Promise<boolean> {
  const dialog = $<HTMLDialogElement>('confirm')
  $('confirm-text').textContent = question
  const yes = $<HTMLButtonElement>('confirm-yes')
  yes.textContent = confirmLabel
  return new Promise((resolve) => {
    const done = (answer: boolean) => {
      yes.removeEventListener('click', onYes)
      $('confirm-no').removeEventListener('click', onNo)
      dialog.removeEventListener('cancel', onNo)
      if (dialog.open) dialog.close()
      resolve(answer)
    }
    const onYes = () => done(true)
    const onNo = () => done(false)
    yes.addEventListener('click', onYes)
    $('confirm-no').addEventListener('click', onNo)
    dialog.addEventListener('cancel', onNo)
    dialog.showModal()
    $('confirm-no').focus()
  })
}

/** Runs one confirmed action: the server's message on failure, every listing re-read either way. */
async function act(question: string, confirmLabel: string, run: () => Promise<Child[]>): Promise<void> {
  const opener = document.activeElement as HTMLElement | null
  if (!(await confirmAction(question, confirmLabel))) {
    opener?.focus()
    return
  }
  showStatus('', 'Working…')
  try {
    showStatus('done', ...(await run()))
  } catch (e) {
    showStatus('error', (e as Error).message)
  }
  await refresh(['devices', 'audit'])
  if (opener?.isConnected) opener.focus()
  else $('status').focus()
}

// ── views ────────────────────────────────────────────────────────────────────────────────────
const views = ['devices', 'accounts', 'nodes', 'audit'] as const
type View = (typeof views)[number]

function show(view: View): void {
  for (const v of views) {
    $(`view-${v}`).hidden = v !== view
    $(`tab-${v}`).setAttribute('aria-current', String(v === view))
  }
}

async function loadDevices(): Promise<void> {
  const user = $<HTMLInputElement>('device-filter').value.trim()
  const q = new URLSearchParams({ limit: String(PAGE) })
  if (user) q.set('username', user)
  let result: Json
  try {
    result = await api('GET', `/admin/devices?${q}`)
  } catch (e) {
    $('devices').replaceChildren(el('p', { class: 'empty' }, (e as Error).message))
    return
  }
  const rows = (result.devices as Json[]).map((d) => [
    td(d.username),
    td(d.device_name, 'wrap'),
    td(d.ip),
    td(d.node_id, 'wrap'),
    td(when(d.connected_at)),
    el(
      'td',
      { class: 'actions' },
      button('Revoke device', () =>
        act(`Revoke the device “${d.device_name}” of ${d.username}? Its sockets close at once and it must log in again.`, 'Revoke device', async () => {
          const r = await api('DELETE', `/admin/sessions/${encodeURIComponent(d.session_id)}`)
          return [r.revoked ? `Revoked the device “${d.device_name}” of ${d.username}.` : 'That device was already revoked.']
        }),
      ),
      button(
        'Revoke user',
        () =>
          act(`Revoke every device of ${d.username}? All of its sessions end at once.`, 'Revoke all devices', async () => {
            const r = await api('DELETE', `/admin/users/${encodeURIComponent(d.username)}/sessions`)
            return [`Revoked ${r.revoked} session(s) of ${d.username}.`]
          }),
        'danger',
      ),
    ),
  ])
  $('devices').replaceChildren(
    ...present(
      table(['User', 'Device', 'IP', 'Node', 'Connected since', 'Actions'], rows, user ? `No device of ${user} is connected.` : 'No device is connected.'),
      result.next_cursor ? el('p', { class: 'muted' }, `Showing the newest ${PAGE}: filter by user to see others.`) : null,
    ),
  )
  $('device-count').textContent = `${rows.length}${result.next_cursor ? '+' : ''} connected`
}

async function loadNodes(): Promise<void> {
  try {
    const { nodes } = await api('GET', '/admin/nodes')
    const rows = (nodes as Json[]).map((n) => [td(n.node_id, 'wrap'), td(String(n.connections)), td(when(n.started_at)), td(when(n.heartbeat_at))])
    $('nodes').replaceChildren(table(['Node', 'Connections', 'Started', 'Last heartbeat'], rows, 'No live node.'))
  } catch (e) {
    $('nodes').replaceChildren(el('p', { class: 'empty' }, (e as Error).message))
  }
}

async function loadAccounts(): Promise<void> {
  const q = new URLSearchParams({ limit: String(PAGE) })
  const search = $<HTMLInputElement>('account-search').value.trim()
  const role = $<HTMLSelectElement>('account-role').value
  const state = $<HTMLSelectElement>('account-state').value
  if (search) q.set('q', search)
  if (role) q.set('role', role)
  if (state) q.set('disabled', state === 'disabled' ? 'true' : 'false')
  let result: Json
  try {
    result = await api('GET', `/admin/users?${q}`)
  } catch (e) {
    $('accounts').replaceChildren(el('p', { class: 'empty' }, (e as Error).message))
    return
  }
  const rows = (result.users as Json[]).map((u) => {
    const name = u.username as string
    const path = `/admin/users/${encodeURIComponent(name)}`
    const other = u.role === 'admin' ? 'user' : 'admin'
    return [
      td(name),
      td(u.email ?? '—', 'wrap'),
      td(u.role),
      el('td', {}, el('span', { class: `badge ${u.disabled ? 'off' : 'on'}` }, u.disabled ? 'disabled' : 'enabled')),
      td(`${u.sessions}${u.online ? ' (online)' : ''}`),
      td(when(u.created_at)),
      el(
        'td',
        { class: 'actions' },
        button('Reset password', () =>
          act(`Reset the password of ${name}? A new one is generated and shown once; every session of ${name} ends.`, 'Reset password', async () => {
            const r = await api('POST', `${path}/password`, {})
            return [`New password for ${name} (shown once): `, el('span', { class: 'secret' }, r.password)]
          }),
        ),
        button(other === 'admin' ? 'Make admin' : 'Make user', () =>
          act(`Change the role of ${name} to ${other}?`, other === 'admin' ? 'Make admin' : 'Make user', async () => {
            await api('PUT', `${path}/role`, { role: other })
            return [`${name} is now ${other === 'admin' ? 'an admin' : 'a user'}.`]
          }),
        ),
        u.disabled
          ? button('Enable', () =>
              act(`Enable ${name}? The account can log in again.`, 'Enable', async () => {
                await api('POST', `${path}/enable`)
                return [`Enabled ${name}.`]
              }),
            )
          : button(
              'Disable',
              () =>
                act(`Disable ${name}? Every session of ${name} ends and logins are refused.`, 'Disable', async () => {
                  const r = await api('POST', `${path}/disable`)
                  return [`Disabled ${name}; ${r.revoked} session(s) revoked.`]
                }),
              'danger',
            ),
        button(
          'Delete',
          () =>
            act(`Delete the account ${name} for good? Its sessions end and the name becomes free.`, 'Delete account', async () => {
              await api('DELETE', path)
              return [`Deleted ${name}.`]
            }),
          'danger',
        ),
      ),
    ]
  })
  $('accounts').replaceChildren(
    ...present(
      table(['Username', 'Email', 'Role', 'State', 'Sessions', 'Created', 'Actions'], rows, 'No account matches.'),
      result.next_cursor ? el('p', { class: 'muted' }, `Showing the newest ${PAGE}: search to narrow.`) : null,
    ),
  )
}

async function loadAudit(): Promise<void> {
  try {
    const { entries } = await api('GET', `/admin/audit?limit=${PAGE}`)
    const rows = (entries as Json[]).map((e) => [td(when(e.at)), td(e.actor), td(e.via), td(e.action), td(e.target, 'wrap'), td(e.node_id, 'wrap')])
    $('audit').replaceChildren(table(['When', 'Actor', 'Via', 'Action', 'Target', 'Node'], rows, 'No operator action yet.'))
  } catch (e) {
    $('audit').replaceChildren(el('p', { class: 'empty' }, (e as Error).message))
  }
}

/** Re-reads the listings of the topics; a read already running is followed by one more. */
const loaders: Record<string, () => Promise<void>> = {
  devices: async () => {
    await Promise.all([loadDevices(), loadNodes()])
  },
  audit: async () => {
    await Promise.all([loadAudit(), loadAccounts()])
  },
}
const running = new Map<string, Promise<void>>()
const again = new Set<string>()
async function refresh(topics: string[]): Promise<void> {
  await Promise.all(
    topics
      .filter((t) => t in loaders)
      .map(async (t) => {
        if (running.has(t)) {
          again.add(t)
          return running.get(t)
        }
        const run = (async () => {
          do {
            again.delete(t)
            await loaders[t]!()
          } while (again.has(t))
        })().finally(() => running.delete(t))
        running.set(t, run)
        return run
      }),
  )
}

// ── live feed ────────────────────────────────────────────────────────────────────────────────
let feed: WebSocket | null = null
let retry: number | undefined
let backoff = 1_000

function setLive(on: boolean): void {
  const badge = $('live')
  badge.className = `live ${on ? 'on' : 'off'}`
  badge.textContent = on ? '● live' : '○ reconnecting…'
}

function openFeed(): void {
  if (!creds) return
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/admin/live`
  const ws = new WebSocket(url, ['chatgate.v1', `token.${creds.token}`, `username.${creds.username}`])
  feed = ws
  ws.onopen = () => {
    backoff = 1_000
    setLive(true)
    void refresh(['devices', 'audit'])
  }
  ws.onmessage = (m) => {
    try {
      const msg = JSON.parse(String(m.data)) as Json
      if (msg.type === 'changed' && Array.isArray(msg.topics)) void refresh(msg.topics)
    } catch {
      // not ours: ignore
    }
  }
  ws.onclose = (ev) => {
    if (feed !== ws) return
    feed = null
    setLive(false)
    if (ev.code === SESSION_REVOKED) return endSession('Your session was revoked: sign in again.')
    retry = window.setTimeout(openFeed, backoff)
    backoff = Math.min(backoff * 2, 10_000)
  }
}

function closeFeed(): void {
  window.clearTimeout(retry)
  const ws = feed
  feed = null
  ws?.close(1000)
}

// ── sign-in / sign-out ───────────────────────────────────────────────────────────────────────
function endSession(message: string): void {
  creds = null
  sessionStorage.removeItem(STORAGE_KEY)
  closeFeed()
  $('app').hidden = true
  $('signin').hidden = false
  $('signin-error').textContent = message
  $<HTMLInputElement>('signin-user').focus()
}

function startApp(): void {
  if (!creds) return
  $('signin').hidden = true
  $('app').hidden = false
  $('whoami').textContent = `Signed in as ${creds.username}`
  showStatus('')
  show('devices')
  void refresh(['devices', 'audit'])
  openFeed()
  $('tab-devices').focus()
}

async function signIn(ev: Event): Promise<void> {
  ev.preventDefault()
  const who = $<HTMLInputElement>('signin-user').value.trim()
  const password = $<HTMLInputElement>('signin-password').value
  const error = $('signin-error')
  error.textContent = ''
  const body = who.includes('@') ? { email: who, password } : { username: who, password }
  try {
    const res = await fetch('/api/backoffice/session', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
    const json = (await res.json().catch(() => null)) as Json | null
    if (res.status !== 201 || !json?.data?.[0]?.token) {
      error.textContent = json?.errors?.[0]?.title ?? `Sign-in failed (${res.status}).`
      return
    }
    const user = (json.includes as Json[] | undefined)?.find((r) => r.type === 'user')
    creds = { token: json.data[0].token, username: user?.nickName ?? who.toLowerCase() }
    sessionStorage.setItem(STORAGE_KEY, JSON.stringify(creds))
    $<HTMLInputElement>('signin-password').value = ''
    startApp()
  } catch {
    error.textContent = 'The server could not be reached.'
  }
}

async function signOut(): Promise<void> {
  if (creds) {
    // Deletes the backoffice session on the server; the token is forgotten here whatever it answers.
    await fetch('/session', { method: 'DELETE', headers: { Token: creds.token, Username: creds.username } }).catch(() => undefined)
  }
  endSession('Signed out.')
}

// ── wiring ───────────────────────────────────────────────────────────────────────────────────
function wire(): void {
  $('signin-form').addEventListener('submit', (ev) => void signIn(ev))
  $('signout').addEventListener('click', () => void signOut())
  for (const v of views) $(`tab-${v}`).addEventListener('click', () => show(v))
  let typing: number | undefined
  const debounced = (run: () => void) => () => {
    window.clearTimeout(typing)
    typing = window.setTimeout(run, 250)
  }
  $('device-filter').addEventListener(
    'input',
    debounced(() => void loadDevices()),
  )
  $('account-search').addEventListener(
    'input',
    debounced(() => void loadAccounts()),
  )
  $('account-role').addEventListener('change', () => void loadAccounts())
  $('account-state').addEventListener('change', () => void loadAccounts())
  $('create-form').addEventListener('submit', (ev) => {
    ev.preventDefault()
    const username = $<HTMLInputElement>('create-username').value.trim()
    const email = $<HTMLInputElement>('create-email').value.trim()
    const password = $<HTMLInputElement>('create-password').value
    const role = $<HTMLSelectElement>('create-role').value
    void act(`Create the account ${username} (${role})?`, 'Create account', async () => {
      const r = await api('POST', '/admin/users', { username, role, ...(email ? { email } : {}), ...(password ? { password } : {}) })
      for (const id of ['create-username', 'create-email', 'create-password']) $<HTMLInputElement>(id).value = ''
      return r.password ? [`Created ${r.username}. Password (shown once): `, el('span', { class: 'secret' }, r.password)] : [`Created ${r.username}.`]
    })
  })
  // A slow safety net for what no event announces (a node that died): every 15 s.
  window.setInterval(() => {
    if (creds && !document.hidden) void refresh(['devices'])
  }, 15_000)
  if (creds) startApp()
  else $<HTMLInputElement>('signin-user').focus()
}

wire()
