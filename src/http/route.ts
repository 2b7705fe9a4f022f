import type { IncomingMessage } from 'node:http'
import type { z } from 'zod'
import type { AuthContext } from '../auth/sessions.js'
import type { Dialect } from '../envelope.js'
import type { ClientInfo } from '../request/client-info.js'

export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE'
export const METHODS: readonly Method[] = ['GET', 'POST', 'PUT', 'DELETE']

/**
 * Who may call a route, checked by the router before the route's input is read:
 * `none` anyone; `session` a live user session (a backoffice session gets 403); `any-session` a
 * live session of either kind; `admin` an admin's backoffice session or the service token;
 * `metrics` the METRICS_TOKEN bearer when one is configured, else anyone.
 */
export type Auth = 'none' | 'session' | 'any-session' | 'admin' | 'metrics'

/** Who called an operator route: an admin's backoffice session, or the chat backend's service token. */
export type AdminCaller = { kind: 'backoffice'; auth: AuthContext } | { kind: 'service' }

/** What the router hands a route for its `auth`. */
export type Caller<A extends Auth> = A extends 'session' | 'any-session' ? AuthContext : A extends 'admin' ? AdminCaller : null

/** A JSON answer: `result` goes inside the dialect's envelope, unless `bare` (`/healthz`, `/openapi.json`). */
export interface JsonResponse {
  status: 200 | 201
  body: z.ZodType
  bare?: true
  /** Another status the same body may come with, when the handler says so (`/readyz`: 503 while not ready). */
  alsoStatus?: 503
}

/** A text answer (`/metrics`, `/client.js`, pages). */
export interface TextResponse {
  status: 200
  contentType: string
}

/** Everything a route declares: the router enforces it, and `/openapi.json` is generated from it. */
export interface RouteSpec {
  /** The OpenAPI operationId. */
  id: string
  method: Method
  /** A find-my-way pattern (`/admin/users/:username`); fixed segments are matched literally. */
  path: string
  dialect: Dialect
  auth: Auth
  /**
   * A user route that browser apps on the `ALLOWED_ORIGINS` may call (CORS, src/http/cors.ts).
   * Absent: same-origin only (operators, the console, the backoffice login, service routes).
   */
  crossOrigin?: true
  /** One line for the OpenAPI document. */
  summary: string
  description?: string
  /** Route parameters (already percent-decoded once); strings. */
  params?: z.ZodType
  /** Query parameters; each may be given at most once (a repeat is 400). */
  query?: z.ZodType
  /** The JSON body (read only for routes that declare one, after `auth`). */
  body?: z.ZodType
  response: JsonResponse | TextResponse
  /** A cheap refusal that must come before the body is read (signup closed); throws ApiError. */
  precheck?: () => void
}

type Parsed<T> = T extends z.ZodType ? z.output<T> : undefined

/** What a route's handler receives: the request and its checked, parsed input. */
export interface RouteContext<S extends RouteSpec> {
  req: IncomingMessage
  client: ClientInfo
  caller: Caller<S['auth']>
  params: S['params'] extends z.ZodType ? z.output<S['params']> : Record<string, string>
  query: Parsed<S['query']>
  body: Parsed<S['body']>
}

/** A handler's answer, typed by the route's declared response. */
export type Reply<S extends RouteSpec = RouteSpec> = S['response'] extends JsonResponse
  ? { result: z.input<S['response']['body']>; headers?: Record<string, string> /** The route's `alsoStatus` instead of its status. */; status?: 503 }
  : { text: string | Buffer; headers?: Record<string, string> /** Answered 304 to a matching `If-None-Match`. */; etag?: string }

/** A declared route with its handler. */
export interface Route {
  spec: RouteSpec
  handle(ctx: RouteContext<RouteSpec>): Promise<Reply>
}

/** Declares a route: its spec in one place, and a handler typed by it. */
export function route<const S extends RouteSpec>(spec: S, handle: (ctx: RouteContext<S>) => Promise<Reply<S>>): Route {
  return { spec, handle: handle as unknown as Route['handle'] }
}
