import { ChatgateError } from './errors.js'

/** A Token + Username pair: what an authenticated call or socket carries. */
export interface Credentials {
  username: string
  token: string
}

export interface HttpCall {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE'
  path: string
  body?: unknown
  credentials?: Credentials | null
}

/** A nullptr-dialect call: the envelope's `result`, or a ChatgateError (never another rejection). */
export type CallApi = <T>(call: HttpCall) => Promise<T>

/** Builds the one function every HTTP method of the SDK goes through. */
export function createApiCaller(baseUrl: string, fetchImpl: typeof fetch): CallApi {
  return async <T>({ method, path, body, credentials }: HttpCall): Promise<T> => {
    const headers: Record<string, string> = {}
    if (body !== undefined) headers['Content-Type'] = 'application/json'
    if (credentials) {
      headers.Token = credentials.token
      headers.Username = credentials.username
    }
    let res: Response
    let text: string
    try {
      res = await fetchImpl(baseUrl + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) })
      text = await res.text()
    } catch (e) {
      throw new ChatgateError(0, 'NETWORK', `${method} ${path}: ${(e as Error)?.message ?? e}`)
    }
    const retryAfter = parseRetryAfter(res.headers.get('retry-after'))
    let envelope: { error?: unknown; error_info?: { error_code?: unknown; description?: unknown }; result?: unknown } | null = null
    try {
      envelope = JSON.parse(text)
    } catch {
      // not JSON: answered below
    }
    if (envelope?.error === true && typeof envelope.error_info?.error_code === 'string') {
      const info = envelope.error_info
      throw new ChatgateError(res.status, info.error_code as string, String(info.description ?? info.error_code), retryAfter)
    }
    if (!res.ok || envelope?.error !== false || typeof envelope.result !== 'object' || envelope.result === null) {
      throw new ChatgateError(res.status, 'BAD_RESPONSE', `${method} ${path}: HTTP ${res.status} without a chatgate envelope`, retryAfter)
    }
    return envelope.result as T
  }
}

/** `Retry-After` in seconds (chatgate sends delta-seconds); undefined when absent or not a number. */
export function parseRetryAfter(value: string | null | undefined): number | undefined {
  const n = Number(value ?? Number.NaN)
  return Number.isFinite(n) && n >= 0 ? n : undefined
}
