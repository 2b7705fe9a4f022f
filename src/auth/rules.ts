import { ApiError } from '../errors.js'

const USERNAME = /^[a-z0-9-][a-z0-9_-]{2,31}$/
export const MIN_PASSWORD_BYTES = 8
/** bcrypt reads at most 72 bytes; longer input is refused, never truncated. */
export const MAX_PASSWORD_BYTES = 72

/** ASCII-lowercases a username before any check or lookup (non-ASCII stays and then fails the rule). */
export function normalizeUsername(input: string): string {
  return input.replace(/[A-Z]/g, (c) => c.toLowerCase())
}

/** True when `username` (already normalized) follows the contract's rule. */
export function isValidUsername(username: string): boolean {
  return USERNAME.test(username)
}

/**
 * The normalized username when `input` follows the rule, else null. Input over 64 characters is
 * refused before any work, so a huge value costs nothing.
 */
export function toValidUsername(input: string): string | null {
  if (input.length > 64) return null
  const username = normalizeUsername(input)
  return isValidUsername(username) ? username : null
}

/** Normalizes and validates a username, or throws INVALID_USERNAME. */
export function parseUsername(input: string): string {
  const username = toValidUsername(input)
  if (username === null) throw new ApiError('INVALID_USERNAME')
  return username
}

/** Throws INVALID_PASSWORD unless the password is 8–72 bytes of UTF-8; checked before any hashing. */
export function checkPasswordRule(password: string): void {
  // A string longer than 72 UTF-16 units is over 72 bytes: refuse without encoding a huge string.
  if (password.length > MAX_PASSWORD_BYTES) throw new ApiError('INVALID_PASSWORD')
  const bytes = Buffer.byteLength(password, 'utf8')
  if (bytes < MIN_PASSWORD_BYTES || bytes > MAX_PASSWORD_BYTES) throw new ApiError('INVALID_PASSWORD')
}

/** True when a password can be compared at all: over 72 bytes can never match a stored hash. */
export function isComparablePassword(password: string): boolean {
  return password.length <= MAX_PASSWORD_BYTES && Buffer.byteLength(password, 'utf8') <= MAX_PASSWORD_BYTES
}

const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,190}\.[^\s@]{1,63}$/

/** Lowercases and validates an email, or throws BAD_REQUEST. */
export function parseEmail(input: string): string {
  const email = input.trim().toLowerCase()
  if (email.length > 254 || !EMAIL.test(email)) throw new ApiError('BAD_REQUEST', 'email is not a valid address')
  return email
}
