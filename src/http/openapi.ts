import { z } from 'zod'
import type { Dialect } from '../envelope.js'
import type { Auth, Route, RouteSpec } from './route.js'

/** JSON Schema of a zod schema as the client sends it (transforms documented by their input). */
const schemaOf = (s: z.ZodType) => {
  const { $schema: _, ...rest } = z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>
  return rest
}

/** The error envelopes, one per dialect. */
const errorEnvelopes: Record<Dialect, z.ZodType> = {
  nullptr: z.object({
    error: z.literal(true),
    error_info: z.object({ error_code: z.string(), description: z.string() }),
    result: z.null(),
  }),
  dialogram: z.object({ errors: z.array(z.object({ status: z.string(), code: z.string(), title: z.string() })) }),
}

/** The success body of a route: its result inside the nullptr envelope, or as is (Dialogram, bare). */
function successSchema(spec: RouteSpec, result: z.ZodType): z.ZodType {
  if (spec.dialect === 'dialogram' || ('bare' in spec.response && spec.response.bare)) return result
  return z.object({ error: z.literal(false), error_info: z.null(), result })
}

const security: Record<Auth, Record<string, string[]>[] | undefined> = {
  none: undefined,
  session: [{ Token: [], Username: [] }],
  'any-session': [{ Token: [], Username: [] }],
  admin: [{ Token: [], Username: [] }, { ServiceToken: [] }],
  metrics: [{}, { MetricsToken: [] }],
}

/** `/admin/users/:username` → `/admin/users/{username}`. */
const openapiPath = (path: string) => path.replace(/:([A-Za-z_]+)/g, '{$1}')

/** The group a route is listed under. */
function tagOf(spec: RouteSpec): string {
  if (spec.path.startsWith('/admin/')) return 'operators'
  if (spec.dialect === 'dialogram') return 'dialogram'
  return /^\/(user|session)(\/|$)/.test(spec.path) ? 'nullptr' : 'service'
}

function operation(spec: RouteSpec): Record<string, unknown> {
  const parameters: Record<string, unknown>[] = []
  for (const [, name] of spec.path.matchAll(/:([A-Za-z_]+)/g)) {
    parameters.push({ name, in: 'path', required: true, schema: { type: 'string' } })
  }
  if (spec.query) {
    const q = schemaOf(spec.query) as { properties?: Record<string, unknown>; required?: string[] }
    for (const [name, schema] of Object.entries(q.properties ?? {})) {
      parameters.push({ name, in: 'query', required: q.required?.includes(name) ?? false, schema })
    }
  }
  const { response } = spec
  const success =
    'contentType' in response
      ? { description: 'OK', content: { [response.contentType.split(';')[0]!]: { schema: { type: 'string' } } } }
      : { description: 'OK', content: { 'application/json': { schema: schemaOf(successSchema(spec, response.body)) } } }
  return {
    operationId: spec.id,
    summary: spec.summary,
    ...(spec.description ? { description: spec.description } : {}),
    tags: [tagOf(spec)],
    ...(security[spec.auth] ? { security: security[spec.auth] } : {}),
    ...(parameters.length ? { parameters } : {}),
    ...(spec.body ? { requestBody: { required: true, content: { 'application/json': { schema: schemaOf(spec.body) } } } } : {}),
    responses: {
      [String(response.status)]: success,
      ...('alsoStatus' in response && response.alsoStatus ? { [String(response.alsoStatus)]: { ...success, description: 'Not ready (the same body)' } } : {}),
      default: {
        description: `An error in the ${spec.dialect} envelope; the status is the error code's (docs/API.md).`,
        content: { 'application/json': { schema: schemaOf(errorEnvelopes[spec.dialect]) } },
      },
    },
  }
}

/** The OpenAPI 3.1 document of these routes, built from their declarations and schemas. */
export function buildOpenApi(routes: readonly Route[], version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {}
  for (const { spec } of routes) {
    const path = openapiPath(spec.path)
    paths[path] ??= {}
    paths[path][spec.method.toLowerCase()] = operation(spec)
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'chatgate',
      version,
      description: 'Session gateway for chat services. The WebSocket (`GET /ws` upgrade), close codes and frames are in docs/API.md.',
      license: { name: 'MIT', identifier: 'MIT' },
    },
    tags: [
      { name: 'nullptr', description: 'The primary dialect: `/user/…`, `/session…`, Token + Username headers.' },
      { name: 'dialogram', description: 'The compatibility dialect: `/api/…`.' },
      { name: 'operators', description: 'Admin API: a backoffice session of an admin, or the service token.' },
      { name: 'service', description: 'Health, metrics, this document.' },
    ],
    components: {
      securitySchemes: {
        Token: { type: 'apiKey', in: 'header', name: 'Token', description: 'The session token.' },
        Username: { type: 'apiKey', in: 'header', name: 'Username', description: 'The username the token belongs to.' },
        ServiceToken: { type: 'http', scheme: 'bearer', description: 'CHATGATE_SERVICE_TOKEN, for a chat backend.' },
        MetricsToken: { type: 'http', scheme: 'bearer', description: 'METRICS_TOKEN, when set.' },
      },
    },
    paths,
  }
}
