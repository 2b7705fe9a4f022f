import type { IncomingMessage } from 'node:http'
import FindMyWay from 'find-my-way'
import { ApiError } from '../errors.js'
import type { Dialect } from './respond.js'

export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE'
const METHODS: Method[] = ['GET', 'POST', 'PUT', 'DELETE']

/** Who is calling, as far as the transport tells. */
export interface ClientInfo {
  ip: string
  userAgent: string
}

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

  /** The route and its params, or an ApiError NOT_FOUND / METHOD_NOT_ALLOWED (with `Allow`). */
  match(method: string, path: string): { route: Route; params: Record<string, string> } {
    const found = METHODS.includes(method as Method) ? this.fmw.find(method as Method, path) : null
    if (found) return { route: found.store as Route, params: found.params as Record<string, string> }
    const allowed = METHODS.filter((m) => this.fmw.find(m, path) !== null)
    if (allowed.length > 0) throw new ApiError('METHOD_NOT_ALLOWED', undefined, undefined, allowed.join(', '))
    throw new ApiError('NOT_FOUND')
  }
}
