import type { LoginFailure } from '../auth/sessions.js'
import type { Dialect } from '../envelope.js'
import { ApiError } from '../errors.js'

/**
 * How each dialect names a refused login: the nullptr dialect tells a wrong username from a wrong
 * password (its contract does), Dialogram answers one INVALID_CREDENTIALS for both. The one place
 * a login failure becomes an error.
 */
const loginRefusals: Record<Dialect, Record<LoginFailure, () => ApiError>> = {
  nullptr: {
    UNKNOWN_USER: () => new ApiError('INCORRECT_USERNAME'),
    WRONG_PASSWORD: () => new ApiError('INCORRECT_PASSWORD'),
    DISABLED: () => new ApiError('ACCOUNT_DISABLED'),
    NOT_ADMIN: () => new ApiError('FORBIDDEN', 'Backoffice sessions are for admin accounts.'),
  },
  dialogram: {
    UNKNOWN_USER: () => new ApiError('INVALID_CREDENTIALS'),
    WRONG_PASSWORD: () => new ApiError('INVALID_CREDENTIALS'),
    DISABLED: () => new ApiError('ACCOUNT_DISABLED'),
    NOT_ADMIN: () => new ApiError('FORBIDDEN', 'Backoffice sessions are for admin accounts.'),
  },
}

/** The error a dialect answers a refused login with. */
export const loginRefusal = (dialect: Dialect, failure: LoginFailure): ApiError => loginRefusals[dialect][failure]()
