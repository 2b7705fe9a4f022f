import FindMyWay from 'find-my-way'
import { ApiError } from '../errors.js'
import { METHODS, type Method, type Route } from './route.js'

/** Matches routes by method and path; knows when a path exists under another method (405). */
export class Router {
  private readonly fmw = FindMyWay({ ignoreTrailingSlash: true, maxParamLength: 200 })

  constructor(readonly routes: readonly Route[]) {
    for (const r of routes) this.fmw.on(r.spec.method, r.spec.path, () => undefined, r)
  }

  /**
   * The route and its params, or an ApiError NOT_FOUND / METHOD_NOT_ALLOWED (with `Allow`). `path`
   * is the raw path: its fixed segments must equal the route's literally (find-my-way decodes
   * `%6d` to `m` before matching; a route is never reached through an escape), and only the
   * parameters are percent-decoded, once.
   */
  match(method: string, path: string): { route: Route; params: Record<string, string> } {
    const found = METHODS.includes(method as Method) ? this.find(method as Method, path) : null
    if (found) return found
    const allowed = this.methodsOf(path)
    if (allowed.length > 0) throw new ApiError('METHOD_NOT_ALLOWED', undefined, undefined, allowed.join(', '))
    throw new ApiError('NOT_FOUND')
  }

  /** The methods served on `path` (for 405's `Allow` and CORS preflights). */
  methodsOf(path: string): Method[] {
    return METHODS.filter((m) => this.find(m, path) !== null)
  }

  /**
   * The methods a browser on an allowed origin may call on `path`: all of its methods when every
   * route serving it is declared `crossOrigin`, else none (fail closed).
   */
  crossOriginMethodsOf(path: string): Method[] {
    const served = METHODS.map((m) => [m, this.find(m, path)] as const).filter(([, found]) => found !== null)
    return served.every(([, found]) => found?.route.spec.crossOrigin) ? served.map(([m]) => m) : []
  }

  private find(method: Method, path: string): { route: Route; params: Record<string, string> } | null {
    const found = this.fmw.find(method, path)
    if (!found) return null
    const route = found.store as Route
    return matchesLiterally(route.spec.path, path) ? { route, params: found.params as Record<string, string> } : null
  }
}

/** True when every fixed segment of `pattern` (`/admin/users/:username`) equals the raw path's, one trailing `/` allowed. */
function matchesLiterally(pattern: string, path: string): boolean {
  const want = pattern.split('/')
  const got = path.split('/')
  if (got.length === want.length + 1 && got[got.length - 1] === '') got.pop()
  return got.length === want.length && want.every((segment, i) => segment.startsWith(':') || segment === got[i])
}
