import { checkResponse } from './openapi-check.js'

/** A response reduced to what tests assert on. */
export interface Res<T = any> {
  status: number
  body: T
  headers: Headers
}

/** Sends a request with a JSON body (or raw string body) and parses the JSON answer. */
export async function request<T = any>(
  base: string,
  method: string,
  path: string,
  options: { body?: unknown; raw?: string; headers?: Record<string, string> } = {},
): Promise<Res<T>> {
  const headers: Record<string, string> = { ...options.headers }
  let body: string | undefined
  if (options.raw !== undefined) body = options.raw
  else if (options.body !== undefined) {
    body = JSON.stringify(options.body)
    headers['content-type'] ??= 'application/json'
  }
  const res = await fetch(base + path, { method, headers, body })
  const text = await res.text()
  let parsed: unknown = text
  try {
    parsed = JSON.parse(text)
  } catch {
    // not JSON: tests see the text
  }
  // Every JSON answer in the HTTP tests must match the server's own /openapi.json.
  if (typeof parsed !== 'string' && res.headers.get('content-type')?.startsWith('application/json')) {
    await checkResponse(base, method, path, res.status, parsed)
  }
  return { status: res.status, body: parsed as T, headers: res.headers }
}

/** The credentials headers of a session. */
export const authHeaders = (token: string, username: string) => ({ Token: token, Username: username })

/** Registers a user over the nullptr dialect and returns its first session. */
export async function registerUser(base: string, username: string, password = 'password-123', deviceName?: string) {
  const res = await request(base, 'POST', '/user/register', {
    body: { username, password, ...(deviceName ? { device_name: deviceName } : {}) },
  })
  if (res.status !== 201) throw new Error(`register ${username} failed: ${res.status} ${JSON.stringify(res.body)}`)
  const r = res.body.result as { user_id: string; session_token: string; session_id: string }
  return { userId: r.user_id, token: r.session_token, sessionId: r.session_id, username: username.toLowerCase() }
}

/** Logs in over the nullptr dialect and returns the new session. */
export async function login(base: string, username: string, password = 'password-123', deviceName?: string) {
  const res = await request(base, 'POST', '/session', {
    body: { username, password, ...(deviceName ? { device_name: deviceName } : {}) },
  })
  if (res.status !== 200) throw new Error(`login ${username} failed: ${res.status} ${JSON.stringify(res.body)}`)
  const r = res.body.result as { user_id: string; session_token: string; session_id: string }
  return { userId: r.user_id, token: r.session_token, sessionId: r.session_id, username: username.toLowerCase() }
}

/** Logs the admin in with a backoffice session (test servers use admin-password-123). */
export async function backofficeLogin(base: string, password = 'admin-password-123') {
  const res = await request(base, 'POST', '/api/backoffice/session', { body: { username: 'admin', password } })
  if (res.status !== 201) throw new Error(`backoffice login failed: ${res.status} ${JSON.stringify(res.body)}`)
  return { token: res.body.data[0].token as string, sessionId: res.body.data[0].id as string, username: 'admin' }
}
