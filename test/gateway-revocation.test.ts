import { spawn } from 'node:child_process'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { authHeaders, login, registerUser, request } from './helpers/http.js'
import { startServer, type TestServer } from './helpers/server.js'
import { connectOk, within, type TestClient } from './helpers/ws.js'

/** Reads `devices` frames (bursts may bring earlier ones) until one no longer lists `sessionId`. */
async function nextDevicesWithout(client: TestClient, sessionId: string): Promise<any[]> {
  for (;;) {
    const f = await client.nextOfType('devices')
    if (!f.devices.some((d: any) => d.session_id === sessionId)) return f.devices
  }
}

const revocation = suite<{ srv: TestServer }>('revocation')
revocation.before(async (ctx) => {
  ctx.srv = await startServer()
})
revocation.after(async (ctx) => {
  await ctx.srv.close()
})

revocation('gateway › should close with 4501 the socket of a device logged out over HTTP while another device stays open', async ({ srv }) => {
  const phone = await registerUser(srv.url, 'paula', 'password-123', 'phone')
  const laptop = await login(srv.url, 'paula', 'password-123', 'laptop')
  const p = await connectOk(srv.url, { token: phone.token, username: 'paula' })
  const l = await connectOk(srv.url, { token: laptop.token, username: 'paula' })
  await p.client.nextOfType('devices') // the laptop came online
  const out = await request(srv.url, 'DELETE', '/session', { headers: authHeaders(phone.token, 'paula') })
  assert.is(out.status, 200)
  assert.equal(await p.client.waitClose(), { code: 4501, reason: 'SESSION_REVOKED' })
  assert.equal(p.client.messages.at(-1), { type: 'revoked', reason: 'SESSION_REVOKED' })
  // The laptop stays, and learns that the phone is gone from the list.
  const devices = await nextDevicesWithout(l.client, phone.sessionId)
  assert.equal(
    devices.map((d: any) => d.session_id),
    [laptop.sessionId],
  )
  await l.client.roundTrip()
  assert.is(l.client.closeInfo, null)
  assert.is(l.client.messages.filter((m) => m.type === 'revoked').length, 0)
  await l.client.close()
})

revocation('gateway › should close with 4501 every other device on DELETE /session/others and on a password change', async ({ srv }) => {
  const a = await registerUser(srv.url, 'pete', 'password-123', 'a')
  const b = await login(srv.url, 'pete', 'password-123', 'b')
  const c = await login(srv.url, 'pete', 'password-123', 'c')
  const sa = await connectOk(srv.url, { token: a.token, username: 'pete' })
  const sb = await connectOk(srv.url, { token: b.token, username: 'pete' })
  const others = await request(srv.url, 'DELETE', '/session/others', { headers: authHeaders(a.token, 'pete') })
  assert.is(others.body.result.revoked, 2)
  assert.is((await sb.client.waitClose()).code, 4501)
  const d = await login(srv.url, 'pete', 'password-123', 'd')
  const sd = await connectOk(srv.url, { token: d.token, username: 'pete' })
  const pw = await request(srv.url, 'PUT', '/user/password', {
    headers: authHeaders(a.token, 'pete'),
    body: { old_password: 'password-123', new_password: 'password-456' },
  })
  assert.is(pw.status, 200)
  assert.is((await sd.client.waitClose()).code, 4501)
  await sa.client.roundTrip()
  await sa.client.close()
  assert.is((await request(srv.url, 'GET', '/session', { headers: authHeaders(c.token, 'pete') })).status, 401)
})

revocation('gateway › should close with 4501 every socket of a disabled account', async ({ srv }) => {
  const u = await registerUser(srv.url, 'dave')
  const s = await connectOk(srv.url, { token: u.token, username: 'dave' })
  await srv.app.accounts.setDisabled(u.userId, true)
  assert.equal(await s.client.waitClose(), { code: 4501, reason: 'SESSION_REVOKED' })
})

revocation('gateway › should send a devices frame when an offline device of the user is revoked', async ({ srv }) => {
  const main = await registerUser(srv.url, 'olaf', 'password-123', 'main')
  const spare = await login(srv.url, 'olaf', 'password-123', 'spare')
  const m = await connectOk(srv.url, { token: main.token, username: 'olaf' })
  assert.equal(m.welcome.devices.map((d: any) => d.session_id).sort(), [main.sessionId, spare.sessionId].sort())
  const out = await request(srv.url, 'DELETE', `/session/${spare.sessionId}`, { headers: authHeaders(main.token, 'olaf') })
  assert.is(out.status, 200)
  const devices = await nextDevicesWithout(m.client, spare.sessionId)
  assert.equal(
    devices.map((d: any) => d.session_id),
    [main.sessionId],
  )
  await m.client.close()
})

revocation('gateway › should close a socket whose session a second process revoked in the database', async ({ srv }) => {
  const u = await registerUser(srv.url, 'cleo')
  const s = await connectOk(srv.url, { token: u.token, username: 'cleo' })
  // A separate OS process writes the revocation straight into the database (no chatgate code).
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'test/helpers/write-directly-child.ts',
      srv.databaseUrl,
      "UPDATE sessions SET revoked_at = ?, revoked_reason = 'revoked_by_admin' WHERE id = ?",
      JSON.stringify([Date.now(), u.sessionId]),
    ],
    { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'inherit'] },
  )
  let out = ''
  child.stdout.on('data', (d) => (out += d))
  const exited = new Promise<number | null>((r) => child.on('close', r))
  // The contract's figure (closed within 1 s of the commit) belongs in bench/ (not measured there yet), not here: this
  // wait only fails when the socket never closes (it includes the writer process's start-up).
  const closed = await s.client.waitClose(15_000)
  const closedAt = Date.now()
  assert.is(await within(exited, 15_000, 'the writer process'), 0)
  const writeStartedAt = Number(out)
  assert.ok(writeStartedAt > 0, `the writer printed when it began the write (${out})`)
  assert.equal(closed, { code: 4501, reason: 'SESSION_REVOKED' })
  assert.ok(closedAt >= writeStartedAt, `closed ${writeStartedAt - closedAt} ms before the revocation was written`)
  assert.equal(s.client.messages.at(-1), { type: 'revoked', reason: 'SESSION_REVOKED' })
})

// ── expiry while connected ─────────────────────────────────────────────────────────────────────
const expiry = suite<{ srv: TestServer }>('expiry')
expiry.before(async (ctx) => {
  ctx.srv = await startServer({ SESSION_TTL_DAYS: String(2 / 86_400) }) // sessions live 2 s
})
expiry.after(async (ctx) => {
  await ctx.srv.close()
})

expiry('gateway › should close with 4502 a socket whose session expires while connected', async ({ srv }) => {
  const u = await registerUser(srv.url, 'emma')
  const s = await connectOk(srv.url, { token: u.token, username: 'emma' })
  const expiresAt = Date.parse(s.welcome.devices[0].expires_at)
  // Sessions live 2 s and the sweep runs every second: the wait is generous, it fails only when no close comes.
  const closed = await s.client.waitClose(15_000)
  assert.equal(closed, { code: 4502, reason: 'SESSION_EXPIRED' })
  assert.ok(Date.now() >= expiresAt, 'not before the session expired')
  assert.equal(s.client.messages.at(-1), { type: 'revoked', reason: 'SESSION_EXPIRED' })
})

revocation.run()
expiry.run()
