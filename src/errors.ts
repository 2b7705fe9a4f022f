import { StoreUnavailableError } from './store/types.js'

/** Every error code of the contract and the HTTP status it always maps to. */
export const ErrorStatus = {
  BAD_REQUEST: 400,
  INVALID_USERNAME: 400,
  INVALID_PASSWORD: 400,
  UNAUTHORIZED: 401,
  INCORRECT_USERNAME: 401,
  INCORRECT_PASSWORD: 401,
  INVALID_CREDENTIALS: 401,
  FORBIDDEN: 403,
  ACCOUNT_DISABLED: 403,
  SIGNUP_CLOSED: 403,
  ORIGIN_NOT_ALLOWED: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  USERNAME_TAKEN: 409,
  EMAIL_TAKEN: 409,
  SESSION_IN_USE: 409,
  LAST_ADMIN: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  TOO_MANY_CONNECTIONS: 429,
  INTERNAL_ERROR: 500,
  SHUTTING_DOWN: 503,
  OVERLOADED: 503,
  UNAVAILABLE: 503,
  /** WebSocket `error` frames only: a client frame of a type the server does not know. */
  UNKNOWN_TYPE: 400,
} as const

export type ErrorCode = keyof typeof ErrorStatus

const defaultDescriptions: Record<ErrorCode, string> = {
  BAD_REQUEST: 'The request is malformed.',
  INVALID_USERNAME: 'Usernames are 3-32 characters of a-z, 0-9, _ and -, not starting with _.',
  INVALID_PASSWORD: 'Passwords are 8 to 72 bytes of UTF-8.',
  UNAUTHORIZED: 'A valid session is required.',
  INCORRECT_USERNAME: 'No user has this username.',
  INCORRECT_PASSWORD: 'The password does not match.',
  INVALID_CREDENTIALS: 'The email or password is wrong.',
  FORBIDDEN: 'This session may not do that.',
  ACCOUNT_DISABLED: 'This account is disabled.',
  SIGNUP_CLOSED: 'Registration is closed on this server.',
  ORIGIN_NOT_ALLOWED: 'This Origin is not allowed.',
  NOT_FOUND: 'Not found.',
  METHOD_NOT_ALLOWED: 'This method is not allowed on this route.',
  USERNAME_TAKEN: 'This username is taken.',
  EMAIL_TAKEN: 'This email is taken.',
  SESSION_IN_USE: 'This session is already connected on another device.',
  LAST_ADMIN: 'This is the last enabled admin account: create or enable another admin first.',
  PAYLOAD_TOO_LARGE: 'The request body is too large.',
  UNSUPPORTED_MEDIA_TYPE: 'Request bodies must be application/json.',
  RATE_LIMITED: 'Too many requests; retry later.',
  TOO_MANY_CONNECTIONS: 'Too many connections; retry later.',
  INTERNAL_ERROR: 'Internal error.',
  SHUTTING_DOWN: 'This node is shutting down; retry on another node.',
  OVERLOADED: 'The server is overloaded; retry later.',
  UNAVAILABLE: 'The database is unreachable; retry later.',
  UNKNOWN_TYPE: 'Unknown frame type.',
}

/** An expected failure with a stable code; mapped to a response in one place (http/respond.ts). */
export class ApiError extends Error {
  readonly status: number
  constructor(
    readonly code: ErrorCode,
    message: string = defaultDescriptions[code],
    /** Seconds, sent as `Retry-After` on 429/503. */
    readonly retryAfter?: number,
    /** Methods the route does allow, sent as `Allow` with 405. */
    readonly allow?: string,
  ) {
    super(message)
    this.status = ErrorStatus[code]
  }
}

/** Seconds a client is told to wait when the store could not serve its call in time. */
export const UNAVAILABLE_RETRY_AFTER_S = 1

/**
 * The ApiError a thrown value is answered with: an ApiError as it is, a store that could not serve
 * in time as 503 UNAVAILABLE with Retry-After; null for anything else (a bug: answered 500 and logged).
 */
export function toApiError(err: unknown): ApiError | null {
  if (err instanceof ApiError) return err
  if (err instanceof StoreUnavailableError) return new ApiError('UNAVAILABLE', undefined, UNAVAILABLE_RETRY_AFTER_S)
  return null
}
