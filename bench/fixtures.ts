import { randomUUID } from 'node:crypto'
import bcrypt from 'bcryptjs'
import Database from 'better-sqlite3'
import { createToken, hashToken } from '../src/auth/tokens.js'
import { openSqliteStore } from '../src/store/sqlite.js'

/** The password of every fixture account (login scenario). */
export const FIXTURE_PASSWORD = 'bench-password-1'
/** Sliding expiry used for fixture sessions (chatgate's default). */
const TTL_MS = 30 * 86_400_000
/** Filler sessions per filler user: a user with a phone, a laptop, a tablet and a browser. */
const FILLER_SESSIONS_PER_USER = 4

/** A pre-issued session the load generator connects with. */
export interface Credential {
  token: string
  username: string
  sessionId: string
  userId: string
}

export interface FixtureSpec {
  /** Users with exactly one session each, whose tokens the load generator uses. */
  tokenUsers: number
  /** Extra session rows of filler users, interleaved with the token users' rows. */
  fillerSessions: number
  /** Accounts without any session, for the login scenario. */
  loginAccounts: number
  /** bcrypt cost of the accounts' password hash (what a login compare costs). */
  bcryptCost: number
  /**
   * How long ago the sessions were last used. Over 60 s, chatgate slides each session's expiry
   * (one write) the first time it sees the token, so a warm-up pays for it; 0 (default) defers
   * those writes to a minute into the run.
   */
  lastSeenAgoMs?: number
}

export interface Fixture {
  dbPath: string
  credentials: Credential[]
  loginAccounts: { username: string; password: string }[]
  /** Rows in the sessions table. */
  sessionRows: number
  /** The accounts' bcrypt hash (the load generator times one compare against it). */
  passwordHash: string
}

const pad = (n: number, width: number) => String(n).padStart(width, '0')

/**
 * Writes a chatgate SQLite database at `dbPath`: the schema through the store (so migrations
 * apply), then every row in one transaction with sha256(token) hashes, as chatgate stores them.
 * Token users' rows are spread evenly through the filler rows so that their index entries and
 * table pages are not all cache-hot at the end of the file.
 */
export function buildFixture(dbPath: string, spec: FixtureSpec, now = Date.now()): Fixture {
  const passwordHash = bcrypt.hashSync(FIXTURE_PASSWORD, spec.bcryptCost)
  const lastSeenAgo = spec.lastSeenAgoMs ?? 0
  openSqliteStore(dbPath).close()
  const db = new Database(dbPath)
  db.pragma('synchronous = OFF')
  db.pragma('cache_size = -262144') // 256 MiB: random keys into three indexes thrash the default 2 MiB cache
  const insertUser = db.prepare(`INSERT INTO users (id, username, email, password_hash, role, disabled, created_at, updated_at)
    VALUES (?, ?, NULL, ?, ?, 0, ?, ?)`)
  const insertSession = db.prepare(`INSERT INTO sessions (id, token_hash, user_id, kind, device_name, user_agent, ip, created_at, last_seen_at, expires_at)
    VALUES (?, ?, ?, 'user', 'bench', 'chatgate-bench', '127.0.0.1', ?, ?, ?)`)
  const credentials: Credential[] = []
  const loginAccounts: Fixture['loginAccounts'] = []
  let fillerUserId = ''
  let fillerWritten = 0

  const addUser = (username: string, role: 'user' | 'admin' = 'user') => {
    const id = randomUUID()
    insertUser.run(id, username, passwordHash, role, now, now)
    return id
  }
  const addSession = (userId: string, token: string) => {
    const id = randomUUID()
    insertSession.run(id, hashToken(token), userId, now - lastSeenAgo, now - lastSeenAgo, now + TTL_MS)
    return id
  }
  const addFiller = (upTo: number) => {
    for (; fillerWritten < upTo; fillerWritten++) {
      if (fillerWritten % FILLER_SESSIONS_PER_USER === 0) fillerUserId = addUser(`f${pad(fillerWritten / FILLER_SESSIONS_PER_USER, 7)}`)
      addSession(fillerUserId, createToken())
    }
  }

  db.transaction(() => {
    addUser('admin', 'admin')
    for (let i = 0; i < spec.tokenUsers; i++) {
      addFiller(Math.floor((i * spec.fillerSessions) / spec.tokenUsers))
      const username = `b${pad(i, 7)}`
      const userId = addUser(username)
      const token = createToken()
      credentials.push({ token, username, userId, sessionId: addSession(userId, token) })
    }
    addFiller(spec.fillerSessions)
    for (let i = 0; i < spec.loginAccounts; i++) {
      const username = `l${pad(i, 7)}`
      addUser(username)
      loginAccounts.push({ username, password: FIXTURE_PASSWORD })
    }
  })()
  db.pragma('wal_checkpoint(TRUNCATE)')
  db.close()
  return { dbPath, credentials, loginAccounts, sessionRows: spec.tokenUsers + spec.fillerSessions, passwordHash }
}
