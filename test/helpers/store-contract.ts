import { createHash, randomUUID } from 'node:crypto'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { ConflictError, LastAdminError, type ConnectionRow, type NewSession, type NewUser, type Store } from '../../src/store/types.js'

/**
 * The behaviour every Store must have, as uvu suites: the SQLite and the PostgreSQL store run the
 * same tests, so neither can drift. `open` gives a fresh, empty store and a cleanup for it.
 */
export type OpenFreshStore = () => Promise<{ store: Store; cleanup(): Promise<void> }>

const T = 1_700_000_000_000
const DAY = 86_400_000

let seq = 0
const hashOf = (s: string) => createHash('sha256').update(s).digest()

export function newUser(over: Partial<NewUser> = {}): NewUser {
  seq++
  return {
    id: randomUUID(),
    username: `user_${seq}_${randomUUID().slice(0, 6)}`,
    email: null,
    passwordHash: '$2a$04$hash',
    role: 'user',
    firstName: null,
    lastName: null,
    createdAt: T,
    ...over,
  }
}

export function newSession(userId: string, over: Partial<NewSession> = {}): NewSession & { token: string } {
  const token = randomUUID()
  return {
    id: randomUUID(),
    userId,
    kind: 'user',
    deviceName: 'phone',
    userAgent: 'ua/1',
    ip: '10.0.0.1',
    createdAt: T,
    lastSeenAt: T,
    expiresAt: T + 30 * DAY,
    tokenHash: hashOf(token),
    token,
    ...over,
  }
}

const conn = (over: Partial<ConnectionRow> & Pick<ConnectionRow, 'sessionId' | 'userId' | 'nodeId'>): ConnectionRow => ({
  id: randomUUID(),
  ip: '10.0.0.2',
  userAgent: 'ws/1',
  connectedAt: T,
  ...over,
})

/** Registers the contract suites for one store kind; call `.run()` is done here. */
export function defineStoreContract(label: string, open: OpenFreshStore): void {
  const ctx = { store: undefined as unknown as Store, cleanup: async () => {} }
  const make = (name: string) => {
    const s = suite(`${label} store › ${name}`)
    s.before.each(async () => {
      const opened = await open()
      ctx.store = opened.store
      ctx.cleanup = opened.cleanup
    })
    s.after.each(async () => {
      await ctx.cleanup()
    })
    return s
  }

  // ── users ──────────────────────────────────────────────────────────────────────────────────
  const users = make('users')

  users('should store a user and find it by id, username and email with every field intact', async () => {
    const { store } = ctx
    const u = newUser({ email: 'a@example.com', role: 'admin', firstName: 'Ada', lastName: 'L' })
    await store.createUser(u)
    const expected = { ...u, disabled: false }
    assert.equal(await store.findUserById(u.id), expected)
    assert.equal(await store.findUserByUsername(u.username), expected)
    assert.equal(await store.findUserByEmail('a@example.com'), expected)
    assert.type((await store.findUserById(u.id))!.createdAt, 'number')
    assert.is(await store.findUserById(randomUUID()), null)
    assert.is(await store.findUserByUsername('nobody'), null)
    assert.is(await store.findUserByEmail('nobody@example.com'), null)
    assert.is(await store.findUserById('not-a-uuid'), null)
  })

  users('should refuse a taken username or email with a ConflictError naming the field', async () => {
    const { store } = ctx
    const first = newUser({ email: 'taken@example.com' })
    await store.createUser(first)
    const byName = await store.createUser(newUser({ username: first.username })).catch((e) => e)
    assert.instance(byName, ConflictError)
    assert.is(byName.field, 'username')
    const byEmail = await store.createUser(newUser({ email: 'taken@example.com' })).catch((e) => e)
    assert.instance(byEmail, ConflictError)
    assert.is(byEmail.field, 'email')
    // Any number of users may have no email.
    await store.createUser(newUser())
    await store.createUser(newUser())
  })

  users('should create a user and its session together, or neither on a conflict', async () => {
    const { store } = ctx
    const u = newUser()
    const s = newSession(u.id)
    await store.createUserWithSession(u, s)
    assert.is((await store.findSessionByTokenHash(s.tokenHash))?.session.id, s.id)

    const clash = newUser({ username: u.username })
    const s2 = newSession(clash.id)
    const err = await store.createUserWithSession(clash, s2).catch((e) => e)
    assert.instance(err, ConflictError)
    assert.is(await store.findSessionByTokenHash(s2.tokenHash), null, 'the session of a refused registration must not exist')
    assert.is(await store.findUserById(clash.id), null)

    // The user row is written first: a session that cannot be written must take the user with it.
    const late = newUser()
    const err2 = await store.createUserWithSession(late, newSession(late.id, { tokenHash: s.tokenHash })).catch((e) => e)
    assert.instance(err2, Error)
    assert.is(await store.findUserById(late.id), null, 'the user of a failed registration must not exist')
  })

  users('should tell whether an admin exists', async () => {
    const { store } = ctx
    await store.createUser(newUser())
    assert.is(await store.hasAdmin(), false)
    await store.createUser(newUser({ role: 'admin' }))
    assert.is(await store.hasAdmin(), true)
  })

  users('should change a password and revoke every other live session of the user', async () => {
    const { store } = ctx
    const u = newUser()
    const other = newUser()
    await store.createUser(u)
    await store.createUser(other)
    const keep = newSession(u.id)
    const a = newSession(u.id)
    const b = newSession(u.id)
    const expired = newSession(u.id, { expiresAt: T + 10 })
    const foreign = newSession(other.id)
    for (const s of [keep, a, b, expired, foreign]) await store.createSession(s)

    const revoked = await store.updatePassword(u.id, 'new-hash', keep.id, T + 100)
    assert.equal(revoked.sort(), [a.id, b.id].sort())
    assert.is((await store.findUserById(u.id))!.passwordHash, 'new-hash')
    assert.is((await store.findSessionById(keep.id))!.revokedAt, null)
    assert.is((await store.findSessionById(a.id))!.revokedReason, 'password_changed')
    assert.is((await store.findSessionById(a.id))!.revokedAt, T + 100)
    assert.is((await store.findSessionById(expired.id))!.revokedAt, null, 'an expired session is not reported as revoked')
    assert.is((await store.findSessionById(foreign.id))!.revokedAt, null, 'another user must not be touched')

    assert.equal(await store.updatePassword(u.id, 'newer-hash', null, T + 200), [keep.id])
  })

  users('should disable a user revoking every live session, and re-enable without reviving them', async () => {
    const { store } = ctx
    const u = newUser()
    await store.createUser(u)
    const a = newSession(u.id)
    const b = newSession(u.id)
    await store.createSession(a)
    await store.createSession(b)

    assert.equal((await store.setUserDisabled(u.id, true, T + 5)).sort(), [a.id, b.id].sort())
    assert.is((await store.findUserById(u.id))!.disabled, true)
    assert.is((await store.findSessionByTokenHash(a.tokenHash))!.user.disabled, true)
    assert.is((await store.findSessionById(b.id))!.revokedReason, 'account_disabled')

    assert.equal(await store.setUserDisabled(u.id, false, T + 6), [])
    assert.is((await store.findUserById(u.id))!.disabled, false)
    assert.is((await store.findSessionById(a.id))!.revokedAt, T + 5, 'enabling must not revive sessions')
  })

  users('should refuse to disable the last enabled admin, changing nothing, and allow it while another is enabled', async () => {
    const { store } = ctx
    const first = newUser({ role: 'admin' })
    await store.createUser(first)
    const s = newSession(first.id)
    await store.createSession(s)
    assert.instance(await store.setUserDisabled(first.id, true, T + 1).catch((e) => e), LastAdminError)
    assert.is((await store.findUserById(first.id))!.disabled, false)
    assert.is((await store.findSessionById(s.id))!.revokedAt, null, 'no session revoked by the refused change')

    const disabledAdmin = newUser({ role: 'admin', disabled: true })
    await store.createUser(disabledAdmin)
    assert.instance(await store.setUserDisabled(first.id, true, T + 2).catch((e) => e), LastAdminError, 'a disabled admin does not count')

    const second = newUser({ role: 'admin' })
    await store.createUser(second)
    assert.equal(await store.setUserDisabled(first.id, true, T + 3), [s.id])
    assert.instance(await store.setUserDisabled(second.id, true, T + 4).catch((e) => e), LastAdminError)
    assert.equal(await store.setUserDisabled(disabledAdmin.id, true, T + 5), [], 'disabling a disabled admin changes nothing and is allowed')
  })

  users('should never leave zero enabled admins when two disables race', async () => {
    const { store } = ctx
    const a = newUser({ role: 'admin' })
    const b = newUser({ role: 'admin' })
    await store.createUser(a)
    await store.createUser(b)
    const results = await Promise.allSettled([store.setUserDisabled(a.id, true, T + 1), store.setUserDisabled(b.id, true, T + 1)])
    assert.equal(results.map((r) => r.status).sort(), ['fulfilled', 'rejected'])
    const enabled = [(await store.findUserById(a.id))!, (await store.findUserById(b.id))!].filter((u) => !u.disabled)
    assert.is(enabled.length, 1)
  })

  // ── sessions ───────────────────────────────────────────────────────────────────────────────
  const sessions = make('sessions')

  sessions('should find a session by its token hash with the owner, and nothing for another hash', async () => {
    const { store } = ctx
    const u = newUser({ role: 'admin' })
    await store.createUser(u)
    const s = newSession(u.id, { kind: 'backoffice', deviceName: 'Backoffice' })
    await store.createSession(s)
    const found = await store.findSessionByTokenHash(s.tokenHash)
    assert.ok(found)
    assert.ok(Buffer.isBuffer(found.tokenHash))
    assert.ok(found.tokenHash.equals(s.tokenHash))
    assert.equal(found.user, { id: u.id, username: u.username, role: 'admin', disabled: false })
    const { tokenHash: _h, token: _t, ...row } = s
    assert.equal(found.session, { ...row, revokedAt: null, revokedReason: null })
    assert.is(await store.findSessionByTokenHash(hashOf('another token')), null)
  })

  sessions('should find a session by id with its username, and null for an unknown or malformed id', async () => {
    const { store } = ctx
    const u = newUser()
    await store.createUser(u)
    const s = newSession(u.id)
    await store.createSession(s)
    const found = await store.findSessionById(s.id)
    assert.is(found?.username, u.username)
    assert.is(found?.userId, u.id)
    assert.is(await store.findSessionById(randomUUID()), null)
    assert.is(await store.findSessionById("'; DROP TABLE sessions; --"), null)
  })

  sessions('should slide the expiry of touched sessions but never of a revoked one', async () => {
    const { store } = ctx
    const u = newUser()
    await store.createUser(u)
    const live = newSession(u.id)
    const gone = newSession(u.id)
    await store.createSession(live)
    await store.createSession(gone)
    await store.revokeSessions([gone.id], 'logout', T + 1)
    await store.touchSessions([])
    await store.touchSessions([
      { id: live.id, lastSeenAt: T + DAY, expiresAt: T + 31 * DAY },
      { id: gone.id, lastSeenAt: T + DAY, expiresAt: T + 31 * DAY },
    ])
    const a = await store.findSessionById(live.id)
    assert.is(a!.lastSeenAt, T + DAY)
    assert.is(a!.expiresAt, T + 31 * DAY)
    const b = await store.findSessionById(gone.id)
    assert.is(b!.lastSeenAt, T, 'a revoked session must not be touched')
  })

  sessions('should list only live sessions of the user, newest first and ties by id', async () => {
    const { store } = ctx
    const u = newUser()
    const other = newUser()
    await store.createUser(u)
    await store.createUser(other)
    const older = newSession(u.id, { createdAt: T })
    const tieA = newSession(u.id, { createdAt: T + 10 })
    const tieB = newSession(u.id, { createdAt: T + 10 })
    const revoked = newSession(u.id, { createdAt: T + 20 })
    const expired = newSession(u.id, { createdAt: T + 30, expiresAt: T + 50 })
    for (const s of [older, tieA, tieB, revoked, expired, newSession(other.id)]) await store.createSession(s)
    await store.revokeSessions([revoked.id], 'logout', T + 40)

    const listed = await store.listActiveUserSessions(u.id, T + 100)
    const ties = [tieA.id, tieB.id].sort().reverse()
    assert.equal(
      listed.map((s) => s.id),
      [...ties, older.id],
    )
    assert.is((await store.listActiveUserSessions(u.id, T + 40)).length, 4, 'the expired one is live before it expires')
  })

  sessions('should revoke the given live sessions once, in the caller order, with the reason and time', async () => {
    const { store } = ctx
    const u = newUser()
    await store.createUser(u)
    const [a, b, c] = [newSession(u.id), newSession(u.id), newSession(u.id)]
    for (const s of [a, b, c]) await store.createSession(s)
    assert.equal(await store.revokeSessions([], 'logout', T), [])
    assert.equal(await store.revokeSessions([c.id], 'logout', T + 1), [c.id])
    const revoked = await store.revokeSessions([b.id, randomUUID(), c.id, a.id, b.id], 'revoked_by_admin', T + 2)
    assert.equal(revoked, [b.id, a.id], 'already revoked and unknown ids are left out, duplicates once')
    const row = await store.findSessionById(b.id)
    assert.is(row!.revokedAt, T + 2)
    assert.is(row!.revokedReason, 'revoked_by_admin')
    assert.is((await store.findSessionById(c.id))!.revokedReason, 'logout', 'a second revocation must not overwrite the first')
  })

  sessions('should revoke every live session of a user but one, leaving other users alone', async () => {
    const { store } = ctx
    const u = newUser()
    const other = newUser()
    await store.createUser(u)
    await store.createUser(other)
    const [keep, a, b] = [newSession(u.id), newSession(u.id), newSession(u.id)]
    const foreign = newSession(other.id)
    for (const s of [keep, a, b, foreign]) await store.createSession(s)
    const revoked = await store.revokeUserSessions(u.id, keep.id, 'revoked_by_user', T + 3)
    assert.equal(revoked.sort(), [a.id, b.id].sort())
    assert.is((await store.findSessionById(keep.id))!.revokedAt, null)
    assert.is((await store.findSessionById(foreign.id))!.revokedAt, null)
    assert.equal(await store.revokeUserSessions(u.id, keep.id, 'revoked_by_user', T + 4), [])
    assert.equal(await store.revokeUserSessions(u.id, null, 'logout', T + 5), [keep.id])
  })

  sessions('should report each session once when two revocations of the same user race', async () => {
    const { store } = ctx
    const u = newUser()
    await store.createUser(u)
    const all = Array.from({ length: 12 }, () => newSession(u.id))
    for (const s of all) await store.createSession(s)
    const [x, y, z] = await Promise.all([
      store.revokeUserSessions(u.id, null, 'revoked_by_admin', T + 1),
      store.revokeUserSessions(u.id, null, 'revoked_by_user', T + 1),
      store.revokeSessions(
        all.map((s) => s.id),
        'logout',
        T + 1,
      ),
    ])
    const reported = [...x, ...y, ...z]
    assert.is(reported.length, all.length, 'every session is reported by exactly one call')
    assert.equal(new Set(reported).size, all.length)
  })

  sessions('should page through sessions newest first, ties by id, optionally of one user', async () => {
    const { store } = ctx
    const u = newUser()
    const other = newUser()
    await store.createUser(u)
    await store.createUser(other)
    const mine = Array.from({ length: 7 }, (_, i) => newSession(u.id, { createdAt: T + Math.floor(i / 2) }))
    const theirs = Array.from({ length: 3 }, (_, i) => newSession(other.id, { createdAt: T + i }))
    for (const s of [...mine, ...theirs]) await store.createSession(s)
    await store.revokeSessions([mine[0]!.id], 'logout', T + 9)

    const expected = [...mine, ...theirs].sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0)).map((s) => s.id)
    const seen: string[] = []
    let cursor: { at: number; id: string } | undefined
    for (let pages = 0; pages < 10; pages++) {
      const page = await store.listSessions({ limit: 3, ...(cursor ? { cursor } : {}) })
      seen.push(...page.rows.map((r) => r.id))
      if (!page.next) break
      assert.is(page.rows.length, 3)
      cursor = page.next
    }
    assert.equal(seen, expected, 'pages must follow each other with no gap and no repeat')

    const onlyMine = await store.listSessions({ username: u.username, limit: 50 })
    assert.is(onlyMine.rows.length, 7)
    assert.is(onlyMine.next, null)
    assert.ok(onlyMine.rows.every((r) => r.username === u.username))
    assert.ok(
      onlyMine.rows.some((r) => r.revokedReason === 'logout'),
      'revoked sessions are listed too',
    )
    assert.equal((await store.listSessions({ username: 'nobody', limit: 5 })).rows, [])
  })

  sessions('should list the sessions revoked since a time, oldest revocation first', async () => {
    const { store } = ctx
    const u = newUser()
    await store.createUser(u)
    const [a, b, c] = [newSession(u.id), newSession(u.id), newSession(u.id)]
    for (const s of [a, b, c]) await store.createSession(s)
    await store.revokeSessions([b.id], 'logout', T + 20)
    await store.revokeSessions([a.id], 'revoked_by_admin', T + 10)
    assert.equal(await store.listRevokedSince(T + 10), [
      { id: a.id, revokedAt: T + 10, reason: 'revoked_by_admin' },
      { id: b.id, revokedAt: T + 20, reason: 'logout' },
    ])
    assert.equal(await store.listRevokedSince(T + 11), [{ id: b.id, revokedAt: T + 20, reason: 'logout' }])
    assert.equal(await store.listRevokedSince(T + 21), [])
  })

  sessions('should say whether it can count external changes (SQLite: a number, PostgreSQL: null)', async () => {
    const { store } = ctx
    const counter = await store.externalChangeCounter()
    if (store.kind === 'sqlite') assert.type(counter, 'number')
    else assert.is(counter, null)
  })

  // ── nodes and connections ──────────────────────────────────────────────────────────────────
  const nodes = make('connections')

  async function twoUsersWithSessions(store: Store) {
    const u = newUser()
    const v = newUser()
    await store.createUser(u)
    await store.createUser(v)
    const su = newSession(u.id, { deviceName: 'u-phone' })
    const sv = newSession(v.id, { deviceName: 'v-laptop' })
    await store.createSession(su)
    await store.createSession(sv)
    return { u, v, su, sv }
  }

  nodes('should record opened and closed connections and list those of live nodes with user and device', async () => {
    const { store } = ctx
    const { u, v, su, sv } = await twoUsersWithSessions(store)
    await store.heartbeatNode('node-a', T, T)
    const c1 = conn({ sessionId: su.id, userId: u.id, nodeId: 'node-a', connectedAt: T + 1 })
    const c2 = conn({ sessionId: sv.id, userId: v.id, nodeId: 'node-a', connectedAt: T + 2 })
    const flash = conn({ sessionId: sv.id, userId: v.id, nodeId: 'node-a', connectedAt: T + 3 })
    await store.applyConnectionChanges([], [])
    await store.applyConnectionChanges([c1, c2, flash], [flash.id])

    const page = await store.listConnections({ limit: 10, aliveSince: T })
    assert.equal(
      page.rows.map((r) => r.id),
      [c2.id, c1.id],
      'newest first; a connection opened and closed in one batch is gone',
    )
    assert.equal(page.rows[1], { ...c1, username: u.username, deviceName: 'u-phone' })
    assert.equal(
      (await store.listConnections({ limit: 10, aliveSince: T, username: v.username })).rows.map((r) => r.id),
      [c2.id],
    )

    await store.applyConnectionChanges([], [c2.id])
    assert.equal(
      (await store.listConnections({ limit: 10, aliveSince: T })).rows.map((r) => r.id),
      [c1.id],
    )
  })

  nodes('should replace a connection row opened again with the same id', async () => {
    const { store } = ctx
    const { u, su } = await twoUsersWithSessions(store)
    await store.heartbeatNode('node-a', T, T)
    const c = conn({ sessionId: su.id, userId: u.id, nodeId: 'node-a', connectedAt: T + 1 })
    await store.applyConnectionChanges([c], [])
    await store.applyConnectionChanges(
      [
        { ...c, ip: '10.9.9.9' },
        { ...c, ip: '10.8.8.8', connectedAt: T + 2 },
      ],
      [],
    )
    const rows = (await store.listConnections({ limit: 10, aliveSince: T })).rows
    assert.is(rows.length, 1)
    assert.is(rows[0]!.ip, '10.8.8.8', 'the last row of a batch wins')
    assert.is(rows[0]!.connectedAt, T + 2)
  })

  nodes('should page through connections newest first with no gap and no repeat', async () => {
    const { store } = ctx
    const { u, su } = await twoUsersWithSessions(store)
    await store.heartbeatNode('node-a', T, T)
    const all = Array.from({ length: 7 }, (_, i) => conn({ sessionId: su.id, userId: u.id, nodeId: 'node-a', connectedAt: T + Math.floor(i / 3) }))
    await store.applyConnectionChanges(all, [])
    const expected = [...all].sort((a, b) => b.connectedAt - a.connectedAt || (a.id < b.id ? 1 : -1)).map((c) => c.id)
    const seen: string[] = []
    let cursor: { at: number; id: string } | undefined
    for (let pages = 0; pages < 10; pages++) {
      const page = await store.listConnections({ limit: 2, aliveSince: T, ...(cursor ? { cursor } : {}) })
      seen.push(...page.rows.map((r) => r.id))
      if (!page.next) break
      cursor = page.next
    }
    assert.equal(seen, expected)
  })

  nodes('should count connections per session on live nodes only', async () => {
    const { store } = ctx
    const { u, v, su, sv } = await twoUsersWithSessions(store)
    const su2 = newSession(u.id)
    await store.createSession(su2)
    await store.heartbeatNode('live', T, T + 100)
    await store.heartbeatNode('stale', T, T)
    await store.applyConnectionChanges(
      [
        conn({ sessionId: su.id, userId: u.id, nodeId: 'live' }),
        conn({ sessionId: su.id, userId: u.id, nodeId: 'live' }),
        conn({ sessionId: su2.id, userId: u.id, nodeId: 'stale' }),
        conn({ sessionId: sv.id, userId: v.id, nodeId: 'live' }),
      ],
      [],
    )
    const counts = await store.countUserConnections(u.id, T + 50)
    assert.equal([...counts.entries()], [[su.id, 2]], 'a stale node does not count')
    assert.is(typeof counts.get(su.id), 'number')
    assert.is((await store.countUserConnections(u.id, T)).get(su2.id), 1)
    assert.equal(
      (await store.listConnections({ limit: 10, aliveSince: T + 50 })).rows.every((r) => r.nodeId === 'live'),
      true,
    )
  })

  nodes('should list live nodes by id with their connection counts, and not the stale ones', async () => {
    const { store } = ctx
    const { u, su } = await twoUsersWithSessions(store)
    await store.heartbeatNode('node-b', T - 5, T + 100)
    await store.heartbeatNode('node-a', T - 9, T + 90)
    await store.heartbeatNode('stale', T, T)
    await store.applyConnectionChanges(
      [conn({ sessionId: su.id, userId: u.id, nodeId: 'node-b' }), conn({ sessionId: su.id, userId: u.id, nodeId: 'node-b' })],
      [],
    )
    assert.equal(await store.listNodes(T + 50), [
      { id: 'node-a', startedAt: T - 9, heartbeatAt: T + 90, connections: 0 },
      { id: 'node-b', startedAt: T - 5, heartbeatAt: T + 100, connections: 2 },
    ])
  })

  nodes("should read a token's session, its user and the user's live devices with counts in one call", async () => {
    const { store } = ctx
    const u = newUser()
    const other = newUser()
    await store.createUser(u)
    await store.createUser(other)
    const older = newSession(u.id, { createdAt: T, deviceName: 'laptop' })
    const token = newSession(u.id, { createdAt: T + 10, deviceName: 'phone' })
    const revoked = newSession(u.id, { createdAt: T + 20 })
    const expired = newSession(u.id, { createdAt: T + 30, expiresAt: T + 50 })
    const othersSession = newSession(other.id, { createdAt: T + 40 })
    for (const s of [older, token, revoked, expired, othersSession]) await store.createSession(s)
    await store.revokeSessions([revoked.id], 'logout', T + 60)
    await store.heartbeatNode('live', T, T + 100)
    await store.heartbeatNode('stale', T, T)
    await store.applyConnectionChanges(
      [
        conn({ sessionId: token.id, userId: u.id, nodeId: 'live' }),
        conn({ sessionId: token.id, userId: u.id, nodeId: 'live' }),
        conn({ sessionId: older.id, userId: u.id, nodeId: 'stale' }),
        conn({ sessionId: othersSession.id, userId: other.id, nodeId: 'live' }),
      ],
      [],
    )

    const found = await store.findSessionWithDevices(token.tokenHash, T + 100, T + 50)
    assert.ok(found)
    assert.ok(found.tokenHash.equals(token.tokenHash))
    assert.equal(found.user, { id: u.id, username: u.username, role: 'user', disabled: false })
    const { tokenHash: _h, token: _t, ...row } = token
    assert.equal(found.session, { ...row, revokedAt: null, revokedReason: null })
    assert.equal(
      found.devices.map((d) => [d.session.id, d.session.deviceName, d.connections]),
      [
        [token.id, 'phone', 2],
        [older.id, 'laptop', 0],
      ],
      'live sessions of this user only, newest first, counting live nodes only',
    )
    assert.is(typeof found.devices[0]!.connections, 'number')
    assert.is(found.devices[0]!.session, found.session, "the token's device is the record's session object")
    assert.is(await store.findSessionWithDevices(hashOf('another token'), T + 100, T + 50), null)

    // A revoked or expired token's session is still found (the caller refuses it), but is no device.
    const gone = await store.findSessionWithDevices(revoked.tokenHash, T + 100, T + 50)
    assert.is(gone?.session.revokedAt, T + 60)
    assert.equal(
      gone?.devices.map((d) => d.session.id),
      [token.id, older.id],
    )
    const stale = await store.findSessionWithDevices(expired.tokenHash, T + 100, 0)
    assert.is(stale?.session.id, expired.id)
    assert.equal(
      stale?.devices.map((d) => [d.session.id, d.connections]),
      [
        [token.id, 2],
        [older.id, 1],
      ],
    )

    await store.setUserDisabled(u.id, true, T + 70)
    const disabled = await store.findSessionWithDevices(older.tokenHash, T + 100, T + 50)
    assert.is(disabled?.user.disabled, true)
    assert.equal(disabled?.devices, [], 'disabling revoked every session')
  })

  nodes("should name the live nodes holding a user's connections, each once, sorted", async () => {
    const { store } = ctx
    const { u, v, su, sv } = await twoUsersWithSessions(store)
    await store.heartbeatNode('node-b', T, T + 100)
    await store.heartbeatNode('node-a', T, T + 100)
    await store.heartbeatNode('stale', T, T)
    await store.heartbeatNode('other', T, T + 100)
    await store.applyConnectionChanges(
      [
        conn({ sessionId: su.id, userId: u.id, nodeId: 'node-b' }),
        conn({ sessionId: su.id, userId: u.id, nodeId: 'node-b' }),
        conn({ sessionId: su.id, userId: u.id, nodeId: 'node-a' }),
        conn({ sessionId: su.id, userId: u.id, nodeId: 'stale' }),
        conn({ sessionId: su.id, userId: u.id, nodeId: 'no-such-node' }),
        conn({ sessionId: sv.id, userId: v.id, nodeId: 'other' }),
      ],
      [],
    )
    assert.equal(await store.listUserNodes(u.id, T + 50), ['node-a', 'node-b'], "neither a stale nor an unknown node, nor another user's")
    assert.equal(await store.listUserNodes(u.id, T), ['node-a', 'node-b', 'stale'])
    assert.equal(await store.listUserNodes(v.id, T + 50), ['other'])
    assert.equal(await store.listUserNodes('00000000-0000-4000-8000-000000000000', 0), [])
  })

  nodes('should move a heartbeat forward and keep the start time', async () => {
    const { store } = ctx
    const { u, su } = await twoUsersWithSessions(store)
    await store.heartbeatNode('node-a', T, T)
    await store.applyConnectionChanges([conn({ sessionId: su.id, userId: u.id, nodeId: 'node-a' })], [])
    assert.is((await store.listConnections({ limit: 10, aliveSince: T + 10 })).rows.length, 0)
    await store.heartbeatNode('node-a', T + 999, T + 10)
    assert.is((await store.listConnections({ limit: 10, aliveSince: T + 10 })).rows.length, 1)
  })

  nodes('should remove a node with its connections and nothing else', async () => {
    const { store } = ctx
    const { u, su } = await twoUsersWithSessions(store)
    await store.heartbeatNode('a', T, T)
    await store.heartbeatNode('b', T, T)
    const keep = conn({ sessionId: su.id, userId: u.id, nodeId: 'b' })
    await store.applyConnectionChanges([conn({ sessionId: su.id, userId: u.id, nodeId: 'a' }), keep], [])
    await store.removeNode('a')
    await store.removeNode('never-existed')
    assert.equal(
      (await store.listConnections({ limit: 10, aliveSince: 0 })).rows.map((r) => r.id),
      [keep.id],
    )
    assert.equal(await store.purgeDeadNodes(T + 1), ['b'], 'node a is gone, b is the only node left')
  })

  nodes('should purge nodes whose heartbeat is too old, with their connections and orphans', async () => {
    const { store } = ctx
    const { u, su } = await twoUsersWithSessions(store)
    await store.heartbeatNode('dead-1', T, T)
    await store.heartbeatNode('dead-2', T, T + 5)
    await store.heartbeatNode('alive', T, T + 30_000)
    const kept = conn({ sessionId: su.id, userId: u.id, nodeId: 'alive' })
    await store.applyConnectionChanges(
      [
        conn({ sessionId: su.id, userId: u.id, nodeId: 'dead-1' }),
        conn({ sessionId: su.id, userId: u.id, nodeId: 'dead-2' }),
        conn({ sessionId: su.id, userId: u.id, nodeId: 'no-such-node' }),
        kept,
      ],
      [],
    )
    assert.equal((await store.purgeDeadNodes(T + 10)).sort(), ['dead-1', 'dead-2'])
    assert.equal(
      (await store.listConnections({ limit: 10, aliveSince: 0 })).rows.map((r) => r.id),
      [kept.id],
    )
    // The orphan is invisible while its node is unknown; were it still stored, this would bring it back.
    await store.heartbeatNode('no-such-node', T, T + 30_000)
    assert.is((await store.countUserConnections(u.id, 0)).get(su.id), 1, 'the orphan row is gone too')
    assert.equal(await store.purgeDeadNodes(T + 10), [])
  })

  nodes('should give a session claim to one connection at a time while its node is live', async () => {
    const { store } = ctx
    const { su, sv } = await twoUsersWithSessions(store)
    await store.heartbeatNode('node-a', T, T + 100)
    await store.heartbeatNode('node-b', T, T + 100)
    const claim = (sessionId: string, nodeId: string, connectionId: string) => ({ sessionId, nodeId, connectionId, claimedAt: T + 100 })
    assert.ok(await store.claimSession(claim(su.id, 'node-a', 'c-1'), T), 'a free session is claimed')
    assert.not.ok(await store.claimSession(claim(su.id, 'node-b', 'c-2'), T), 'held by a live node: refused')
    assert.not.ok(await store.claimSession(claim(su.id, 'node-a', 'c-3'), T), 'refused on the holder node too')
    assert.ok(await store.claimSession(claim(sv.id, 'node-b', 'c-4'), T), 'another session is its own claim')
    await store.releaseSessionClaim(su.id, 'c-2')
    assert.not.ok(await store.claimSession(claim(su.id, 'node-b', 'c-2'), T), 'only the holder releases it')
    await store.releaseSessionClaim(su.id, 'c-1')
    assert.ok(await store.claimSession(claim(su.id, 'node-b', 'c-5'), T), 'released: free again')
  })

  nodes('should let a claim held by a node that is not live be taken over, and drop the claims of removed and purged nodes', async () => {
    const { store } = ctx
    const { u, su, sv } = await twoUsersWithSessions(store)
    const other = newSession(u.id)
    await store.createSession(other)
    await store.heartbeatNode('dead', T, T)
    await store.heartbeatNode('live', T, T + 10_000)
    const claim = (sessionId: string, nodeId: string, connectionId: string) => ({ sessionId, nodeId, connectionId, claimedAt: T + 10_000 })
    assert.ok(await store.claimSession(claim(su.id, 'dead', 'c-1'), 0))
    assert.not.ok(await store.claimSession(claim(su.id, 'live', 'c-2'), T), 'a heartbeat at aliveSince is live')
    assert.ok(await store.claimSession(claim(su.id, 'live', 'c-2'), T + 1), 'its node is known dead: taken over')
    assert.not.ok(await store.claimSession(claim(su.id, 'dead', 'c-3'), 0), 'the new holder is live')
    // removeNode and purgeDeadNodes let go of the node's claims (a restart of the same NODE_ID).
    assert.ok(await store.claimSession(claim(sv.id, 'dead', 'c-4'), 0))
    assert.ok(await store.claimSession(claim(other.id, 'live', 'c-5'), 0))
    await store.purgeDeadNodes(T + 1)
    await store.heartbeatNode('dead', T, T + 10_000)
    assert.ok(await store.claimSession(claim(sv.id, 'live', 'c-6'), T + 1), 'the purged node held no claim any more')
    await store.removeNode('live')
    await store.heartbeatNode('live', T, T + 10_000)
    assert.ok(await store.claimSession(claim(other.id, 'dead', 'c-7'), T + 1), 'the removed node held no claim any more')
  })

  nodes('should give a free claim to exactly one of many concurrent claimers', async () => {
    const { store } = ctx
    const { su } = await twoUsersWithSessions(store)
    for (const n of ['n1', 'n2', 'n3']) await store.heartbeatNode(n, T, T + 100)
    const won = await Promise.all(
      Array.from({ length: 30 }, (_, i) => store.claimSession({ sessionId: su.id, nodeId: `n${(i % 3) + 1}`, connectionId: `c-${i}`, claimedAt: T + 100 }, T)),
    )
    assert.is(won.filter(Boolean).length, 1)
  })

  nodes('should close more than once without throwing', async () => {
    const { store } = ctx
    await store.close()
    await store.close()
  })

  // ── accounts administration and the audit trail ──────────────────────────────────────────
  const admin = make('accounts and audit')

  admin('should page through accounts newest first, ties by id, filtered in the query', async () => {
    const { store } = ctx
    const made = [
      newUser({ username: 'alice', email: 'alice@example.com', createdAt: T + 1 }),
      newUser({ username: 'al_x', email: 'x@example.com', createdAt: T + 2, role: 'admin' }),
      newUser({ username: 'alxy', email: 'al.bob@example.com', createdAt: T + 2 }),
      newUser({ username: 'bob', email: null, createdAt: T + 3, disabled: true }),
      newUser({ username: 'carol', email: 'carol@al.example.com', createdAt: T + 4 }),
    ]
    for (const u of made) await store.createUser(u)
    const base = { now: T, aliveSince: T }
    const all = made
      .slice()
      .sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1))
      .map((u) => u.username)
    const seen: string[] = []
    let cursor: { at: number; id: string } | undefined
    for (let pages = 0; pages < 10; pages++) {
      const page = await store.listUsers({ ...base, limit: 2, ...(cursor ? { cursor } : {}) })
      seen.push(...page.rows.map((r) => r.username))
      if (!page.next) break
      cursor = page.next
    }
    assert.equal(seen, all, 'pages must follow each other with no gap and no repeat')
    const names = async (o: Partial<Parameters<Store['listUsers']>[0]>) =>
      (await store.listUsers({ ...base, limit: 50, ...o })).rows.map((r) => r.username).sort()
    assert.equal(await names({ q: 'al' }), ['al_x', 'alice', 'alxy'], 'a username or email prefix, not a substring')
    assert.equal(await names({ q: 'al_' }), ['al_x'], '_ is a character here, not a wildcard')
    assert.equal(await names({ q: 'al%' }), [], '% is a character here, not a wildcard')
    assert.equal(await names({ q: 'al.bob@' }), ['alxy'], 'matched on the email')
    assert.equal(await names({ role: 'admin' }), ['al_x'])
    assert.equal(await names({ disabled: true }), ['bob'])
    assert.equal(await names({ disabled: false, role: 'user', q: 'a' }), ['alice', 'alxy'])
    const alice = (await store.listUsers({ ...base, limit: 50, q: 'alice' })).rows[0]!
    assert.equal(alice, { ...made[0]!, disabled: false, sessions: 0, online: false }, 'every field intact')
  })

  admin("should count an account's live sessions and say whether one is connected on a live node", async () => {
    const { store } = ctx
    const u = newUser()
    await store.createUser(u)
    const [live, revoked, expired] = [newSession(u.id), newSession(u.id), newSession(u.id, { expiresAt: T + 5 })]
    for (const s of [live, revoked, expired]) await store.createSession(s)
    await store.revokeSessions([revoked.id], 'logout', T + 1)
    const one = async (aliveSince: number) => (await store.listUsers({ now: T + 10, aliveSince, limit: 5 })).rows[0]!
    assert.equal([(await one(T)).sessions, (await one(T)).online], [1, false])
    await store.heartbeatNode('node-a', T, T + 10)
    await store.applyConnectionChanges([conn({ sessionId: live.id, userId: u.id, nodeId: 'node-a' })], [])
    assert.is((await one(T + 10)).online, true)
    assert.is((await one(T + 11)).online, false, 'a connection on a stale node is not online')
  })

  admin('should set a role, refusing to demote the last enabled admin and changing nothing then', async () => {
    const { store } = ctx
    const a = newUser({ role: 'admin' })
    const u = newUser()
    await store.createUser(a)
    await store.createUser(u)
    assert.instance(await store.setUserRole(a.id, 'user', T + 1).catch((e) => e), LastAdminError)
    assert.is((await store.findUserById(a.id))!.role, 'admin')
    await store.setUserRole(u.id, 'admin', T + 2)
    assert.is((await store.findUserById(u.id))!.role, 'admin')
    await store.setUserRole(a.id, 'user', T + 3)
    assert.is((await store.findUserById(a.id))!.role, 'user')
    await store.setUserRole(a.id, 'user', T + 4)
    assert.instance(await store.setUserRole(u.id, 'user', T + 5).catch((e) => e), LastAdminError)
  })

  admin('should delete an account with its sessions and connections, free its name, and report its live sessions as revoked', async () => {
    const { store } = ctx
    const u = newUser({ email: 'gone@example.com' })
    const other = newUser()
    await store.createUser(u)
    await store.createUser(other)
    const [live, old] = [newSession(u.id), newSession(u.id)]
    const keep = newSession(other.id)
    for (const s of [live, old, keep]) await store.createSession(s)
    await store.revokeSessions([old.id], 'logout', T + 1)
    await store.heartbeatNode('node-a', T, T)
    const c = conn({ sessionId: live.id, userId: u.id, nodeId: 'node-a' })
    const k = conn({ sessionId: keep.id, userId: other.id, nodeId: 'node-a' })
    await store.applyConnectionChanges([c, k], [])

    assert.equal(await store.deleteUser(u.id, T + 50), [live.id], 'only the sessions that were live')
    assert.is(await store.findUserById(u.id), null)
    assert.is(await store.findSessionById(live.id), null)
    assert.is(await store.findSessionByTokenHash(live.tokenHash), null)
    assert.equal(
      (await store.listConnections({ limit: 10, aliveSince: 0 })).rows.map((r) => r.id),
      [k.id],
    )
    assert.ok(await store.findSessionById(keep.id), 'another user is untouched')
    assert.equal(await store.listRevokedSince(T + 40), [{ id: live.id, revokedAt: T + 50, reason: 'account_deleted' }])
    await store.createUser(newUser({ username: u.username, email: 'gone@example.com' }))
    assert.equal(await store.deleteUser('00000000-0000-4000-8000-000000000000', T + 60), [], 'an unknown id deletes nothing')
  })

  admin('should refuse to delete the last enabled admin, changing nothing', async () => {
    const { store } = ctx
    const a = newUser({ role: 'admin' })
    await store.createUser(a)
    const s = newSession(a.id)
    await store.createSession(s)
    assert.instance(await store.deleteUser(a.id, T + 1).catch((e) => e), LastAdminError)
    assert.ok(await store.findUserById(a.id))
    assert.is((await store.findSessionById(s.id))!.revokedAt, null)
    assert.equal(await store.listRevokedSince(0), [])
    const b = newUser({ role: 'admin' })
    await store.createUser(b)
    assert.equal(await store.deleteUser(a.id, T + 2), [s.id])
  })

  admin('should page through live sessions only, filtered in the query, past any number of revoked ones', async () => {
    const { store } = ctx
    const u = newUser()
    await store.createUser(u)
    const all = Array.from({ length: 12 }, (_, i) => newSession(u.id, { createdAt: T + i, expiresAt: i === 11 ? T + 20 : T + DAY }))
    for (const s of all) await store.createSession(s)
    await store.revokeSessions(
      all.slice(2, 9).map((s) => s.id),
      'logout',
      T + 30,
    )
    const first = await store.listSessions({ limit: 2, activeAt: T + 30 })
    assert.equal(
      first.rows.map((r) => r.id),
      [all[10]!.id, all[9]!.id],
      'the expired newest one is skipped',
    )
    const second = await store.listSessions({ limit: 2, activeAt: T + 30, cursor: first.next! })
    assert.equal(
      second.rows.map((r) => r.id),
      [all[1]!.id, all[0]!.id],
      'seven revoked ones are skipped in between',
    )
    assert.is(second.next, null)
    assert.is((await store.listSessions({ limit: 50, activeAt: T + 30, username: 'nobody' })).rows.length, 0)
  })

  admin('should record audit entries and list them newest first, and since a time oldest first', async () => {
    const { store } = ctx
    const entry = (at: number, action: string) => ({
      id: randomUUID(),
      at,
      actor: 'admin',
      via: 'http' as const,
      action,
      target: 'alice',
      nodeId: 'node-a',
      countOn: null,
    })
    const entries = [
      entry(T + 1, 'create_user'),
      entry(T + 2, 'disable_user'),
      entry(T + 2, 'enable_user'),
      { ...entry(T + 3, 'delete_user'), via: 'cli' as const, countOn: 'node-a' },
    ]
    for (const e of entries) await store.recordAudit(e)
    const newest = entries.slice().sort((a, b) => b.at - a.at || (a.id < b.id ? 1 : -1))
    const first = await store.listAudit({ limit: 3 })
    assert.equal(first.rows, newest.slice(0, 3))
    const rest = await store.listAudit({ limit: 3, cursor: first.next! })
    assert.equal(rest.rows, newest.slice(3))
    assert.is(rest.next, null)
    const since = await store.listAuditSince(T + 2, 10)
    assert.equal(since.map((e) => e.action).slice(-1), ['delete_user'])
    assert.is(since.length, 3)
    assert.is((await store.listAuditSince(T + 2, 1)).length, 1)
  })

  users.run()
  sessions.run()
  nodes.run()
  admin.run()
}
