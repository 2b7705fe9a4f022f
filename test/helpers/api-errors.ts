import { ApiError, type ErrorCode } from '../../src/errors.js'

/** Runs `fn` and returns the ApiError code it threw, null when it returned; any other throw fails. */
export function codeOf(fn: () => unknown): ErrorCode | null {
  try {
    fn()
    return null
  } catch (e) {
    if (e instanceof ApiError) return e.code
    throw e
  }
}
