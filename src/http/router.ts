import type { IncomingMessage } from 'node:http'
import FindMyWay from 'find-my-way'
import { ApiError } from '../errors.js'
import type { ClientInfo } from '../request/client-info.js'
import type { Dialect } from '../envelope.js'

export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE'
const METHODS: Method[] = ['GET', 'POST', 'PUT', 'DELETE']

/** What a handler gets: the raw request plus what routing already worked out. */
export interface HttpContext {
  req: IncomingMessage
  params: Record<string, string>
  query: URLSearchParams
  client: ClientInfo
}

/** A JSON result (wrapped in the route's dialect envelope) or a raw text body. */
export type Reply =
  | { status?: number; result: unknown; headers?: Record<string, string> }
  | { status?: number; text: string; contentType: string }

export interface Route {
  method: Method
  path: string
  dialect: Dialect
  handle(ctx: HttpContext): Promise<Reply>
}

/** Matches routes by method and path; knows when a path exists under another method (405). */
export class Router {
  private readonly fmw = FindMyWay({ ignoreTrailingSlash: true, maxParamLength: 200 })

  constructor(routes: Route[]) {
    for (const r of routes) this.fmw.on(r.method, r.path, () => undefined, r)
  }

  /**
   * The route and its params, or an ApiError NOT_FOUND / METHOD_NOT_ALLOWED (with `Allow`). `path`
   * is the raw path: its fixed segments must equal the route's literally (find-my-way decodes
   * `%6d` to `m` before matching; a route is never reached through an escape), and only the
   * parameters are percent-decoded, once.
   */
  match(method: string, path: string): { route: Route; params: Record<string, string> } {
    const find = (m: Method) => {
      const found = this.fmw.find(m, path)
      return found && matchesLiterally((found.store as Route).path, path) ? found : null
    }
    const found = METHODS.includes(method as Method) ? find(method as Method) : null
    if (found) return { route: found.store as Route, params: found.params as Record<string, string> }
    const allowed = METHODS.filter((m) => find(m) !== null)
    if (allowed.length > 0) throw new ApiError('METHOD_NOT_ALLOWED', undefined, undefined, allowed.join(', '))
    throw new ApiError('NOT_FOUND')
  }
}

/** True when every fixed segment of `pattern` (`/admin/users/:username`) equals the raw path's, one trailing `/` allowed. */
function matchesLiterally(pattern: string, path: string): boolean {
  const want = pattern.split('/')
  const got = path.split('/')
  if (got.length === want.length + 1 && got[got.length - 1] === '') got.pop()
  return got.length === want.length && want.every((segment, i) => segment.startsWith(':') || segment === got[i])
}
