import { hash, randomUUID, timingSafeEqual } from 'node:crypto'
import { nanoid } from 'nanoid'

/** Characters of a session token: 43 × 6 bits = 258 bits from the CSPRNG (nanoid's alphabet). */
export const TOKEN_LENGTH = 43
/** Longest token or service token a request may carry before we even hash it. */
export const MAX_TOKEN_LENGTH = 256

/** A new random session token; only its hash is ever stored. */
export function createToken(): string {
  return nanoid(TOKEN_LENGTH)
}

/**
 * sha256(token): the only form of a token that reaches the database. `crypto.hash` (Node 20.12)
 * is the one-shot form: a third of createHash's cost, and every handshake and request pays it.
 */
export function hashToken(token: string): Buffer {
  return hash('sha256', token, 'buffer')
}

/** Constant-time equality of two digests (of any strings: compare their hashes). */
export function digestsEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b)
}

/** Constant-time equality of two secrets of any length, through their SHA-256. */
export function secretsEqual(a: string, b: string): boolean {
  return digestsEqual(hashToken(a), hashToken(b))
}

/** Characters of a password an operator did not choose: 24 × 6 bits = 144 bits (24 bytes, within bcrypt's 72). */
export const GENERATED_PASSWORD_LENGTH = 24

/** A random password for an account an operator creates or resets without choosing one; shown once, never logged. */
export function createPassword(): string {
  return nanoid(GENERATED_PASSWORD_LENGTH)
}

/** Public ids (user_id, session_id): UUID v4, never derived from a token. */
export function createId(): string {
  return randomUUID()
}

/** Characters of a connection id: 16 × 6 bits = 96 bits from the CSPRNG (nanoid's alphabet is base64url's). */
export const CONNECTION_ID_LENGTH = 16

/**
 * A connection_id: 96 random bits as 16 base64url characters. Unique among a deployment's live
 * connections (a collision is expected only after ~2^48 ids), never derived from a token, and
 * revealing nothing of how many came before. Shorter than a UUID because every live socket keeps
 * it three times in the connections table (row, primary key, listing index) and once in memory:
 * 20 characters fewer each (decision 0359). Drawn with nanoid, which fills a pool from the CSPRNG
 * and cuts ids from it: `randomBytes(12)` asked the CSPRNG once per id and cost ~5 µs of a
 * handshake's ~300 (nanoid: ~0.2 µs).
 */
export function createConnectionId(): string {
  return nanoid(CONNECTION_ID_LENGTH)
}
