import { randomBytes, randomUUID } from 'node:crypto'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { Store } from '../src/store/types.js'
import { addConnectionRow, captureBus } from './helpers/connection-rows.js'
import { authHeaders, backofficeLogin, login, registerUser, request } from './helpers/http.js'
import { startServer, type TestServer } from './helpers/server.js'

let srv: TestServer
let admin: Record<string, string>
const bodies: string[] = []

test.before(async () => {
  srv = await startServer()
  admin = authHeaders((await backofficeLogin(srv.url)).token, 'admin')
})
test.after(async () => {
  await srv.close()
})

const adminCall = async (method: string, path: string) => {
  const res = await request(srv.url, method, path, { headers: admin })
  bodies.push(JSON.stringify(res.body))
  return res
}

const sessionsPage = async (query: string) => {
  const res = await adminCall('GET', `/admin/sessions?${query}`)
  assert.is(res.status, 200, JSON.stringify(res.body))
  return res.body.result as { sessions: any[]; next_cursor: string | null }
}

/** Every page of a listing, bounded so that a cursor that never ends fails instead of hanging. */
async function allPages(query: string) {
  const pages: any[][] = []
  let cursor: string | null = null
  do {
    const page: { sessions: any[]; next_cursor: string | null } = await sessionsPage(`${query}${cursor ? `&cursor=${cursor}` : ''}`)
    pages.push(page.sessions)
    cursor = page.next_cursor
  } while (cursor && pages.length < 50)
  return pages
}

/** Sessions written straight to the store, several sharing one created_at, as a burst of logins would. */
async function insertSessions(store: Store, userId: string, count: number, base: number) {
  const rows: { id: string; at: number }[] = []
  for (let i = 0; i < count; i++) {
    const at = base + Math.floor(i / 4) * 1_000
    const id = randomUUID()
    await store.createSession({
      id,
      userId,
      kind: 'user',
      deviceName: `device ${i}`,
      userAgent: 'bulk',
      ip: '192.0.2.1',
      createdAt: at,
      lastSeenAt: at,
      expiresAt: Date.now() + 86_400_000,
      tokenHash: randomBytes(32),
    })
    rows.push({ id, at })
  }
  return rows
}

const newestFirst = (rows: { id: string; at: number }[]) => [...rows].sort((a, b) => b.at - a.at || (a.id < b.id ? 1 : -1)).map((r) => r.id)

test('admin sessions › should return every session exactly once across pages of 7, newest first, ties by id', async () => {
  const pager = await registerUser(srv.url, 'pager')
  const inserted = await insertSessions(srv.app.store, pager.userId, 24, Date.now() - 3_600_000)
  const first = await srv.app.store.findSessionById(pager.sessionId)
  const expected = newestFirst([...inserted, { id: pager.sessionId, at: first!.createdAt }])

  const pages = await allPages('username=pager&limit=7')
  assert.equal(
    pages.map((p) => p.length),
    [7, 7, 7, 4],
  )
  const seen = pages.flat().map((s) => s.session_id)
  assert.is(new Set(seen).size, 25)
  assert.equal(seen, expected)
  assert.ok(pages.flat().every((s) => s.username === 'pager' && s.user_id === pager.userId))
})

test('admin sessions › should default to 50 rows and cap the limit at 200', async () => {
  const bulk = await registerUser(srv.url, 'bulk')
  await insertSessions(srv.app.store, bulk.userId, 204, Date.now() - 7_200_000)
  const byDefault = await sessionsPage('username=bulk')
  assert.is(byDefault.sessions.length, 50)
  assert.type(byDefault.next_cursor, 'string')
  const capped = await sessionsPage('username=bulk&limit=100000')
  assert.is(capped.sessions.length, 200)
  assert.type(capped.next_cursor, 'string')
})

test('admin sessions › should answer 400 to a bad limit, a foreign cursor or an unknown state', async () => {
  const foreign = Buffer.from(JSON.stringify({ at: 1, id: 'x' })).toString('base64url')
  for (const q of ['limit=0', 'limit=-3', 'limit=ten', 'limit=2e3', 'cursor=%%%', `cursor=${foreign}`, 'state=revoked', 'state=active&state=all']) {
    const res = await adminCall('GET', `/admin/sessions?${q}`)
    assert.is(res.status, 400, q)
    assert.equal(res.body.error, true, q)
    assert.is(res.body.error_info.error_code, 'BAD_REQUEST', q)
  }
})

test('admin sessions › should revoke a session with reason revoked_by_admin, announce it, and refuse its token', async () => {
  const events = captureBus(srv.app)
  const lena = await registerUser(srv.url, 'lena', 'password-123', 'phone')
  const other = await login(srv.url, 'lena', 'password-123', 'laptop')

  const res = await adminCall('DELETE', `/admin/sessions/${lena.sessionId}`)
  assert.is(res.status, 200)
  assert.equal(res.body, { error: false, error_info: null, result: { revoked: true } })
  assert.equal(events, [{ type: 'sessions_revoked', sessionIds: [lena.sessionId], reason: 'revoked_by_admin' }])

  assert.is((await request(srv.url, 'GET', '/session', { headers: authHeaders(lena.token, 'lena') })).status, 401)
  assert.is((await request(srv.url, 'GET', '/session', { headers: authHeaders(other.token, 'lena') })).status, 200, 'only that session')

  const listed = (await sessionsPage('username=lena')).sessions.find((s) => s.session_id === lena.sessionId)
  assert.is(listed.state, 'revoked')
  assert.is(listed.revoked_reason, 'revoked_by_admin')
  assert.type(listed.revoked_at, 'string')

  const again = await adminCall('DELETE', `/admin/sessions/${lena.sessionId}`)
  assert.equal(again.body.result, { revoked: false })
  assert.is(events.length, 1, 'revoking twice announces once')
})

test('admin sessions › should answer 404 NOT_FOUND to an unknown session id', async () => {
  const events = captureBus(srv.app)
  for (const id of [randomUUID(), 'not-a-uuid', 'x'.repeat(150)]) {
    const res = await adminCall('DELETE', `/admin/sessions/${id}`)
    assert.is(res.status, 404, id)
    assert.is(res.body.error_info.error_code, 'NOT_FOUND')
  }
  assert.equal(events, [])
})

test('admin sessions › should list only live sessions with state=active, across pages, with connection counts', async () => {
  const mia = await registerUser(srv.url, 'mia', 'password-123', 'd0')
  const all = [mia]
  for (let i = 1; i < 9; i++) all.push(await login(srv.url, 'mia', 'password-123', `d${i}`))
  const revoked = all.filter((_, i) => i % 3 === 0).map((s) => s.sessionId)
  const r = await srv.app.sessions.revoke(revoked, 'revoked_by_admin')
  assert.is(r.length, 3)
  const online = all[1]!.sessionId
  await addConnectionRow(srv.app.store, online)

  const pages = await allPages('username=mia&state=active&limit=2')
  const seen = pages.flat()
  assert.equal(new Set(seen.map((s) => s.session_id)), new Set(all.map((s) => s.sessionId).filter((id) => !revoked.includes(id))))
  assert.is(seen.length, 6)
  assert.ok(seen.every((s) => s.state === 'active'))
  const withRow = seen.find((s) => s.session_id === online)
  assert.is(withRow.online, true)
  assert.is(withRow.connections, 1)

  const everything = (await allPages('username=mia&limit=4')).flat()
  assert.is(everything.length, 9)
  assert.is(everything.filter((s) => s.state === 'revoked').length, 3)
})

test('admin sessions › should fill a page of active sessions past thousands of revoked ones (filtered in the query)', async () => {
  const olga = await registerUser(srv.url, 'olga')
  const base = Date.now() - 86_400_000
  const oldest = await insertSessions(srv.app.store, olga.userId, 2, base)
  const middle = await insertSessions(srv.app.store, olga.userId, 2_300, base + 10_000_000)
  assert.is(
    (
      await srv.app.store.revokeSessions(
        middle.map((r) => r.id),
        'logout',
        Date.now(),
      )
    ).length,
    2_300,
  )

  const pages = await allPages('username=olga&state=active&limit=10')
  assert.is(pages.length, 1, 'one page: the revoked rows never reach the page, so none is cut short')
  const seen = pages.flat().map((s) => s.session_id)
  assert.equal(seen, [olga.sessionId, ...newestFirst(oldest)])
})

test('admin sessions › should never put a token or a hash in any admin response', async () => {
  const nora = await registerUser(srv.url, 'nora')
  await sessionsPage('limit=200')
  const text = bodies.join('\n')
  assert.not.ok(text.includes(nora.token))
  assert.not.ok(text.includes(admin.Token!))
  assert.not.ok(/token|hash|\$2[aby]\$/i.test(text))
})

test.run()
