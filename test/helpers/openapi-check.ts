import { Ajv2020 } from 'ajv/dist/2020.js'

/** One operation of the served document, with a matcher for its path template. */
interface Operation {
  method: string
  template: string
  pattern: RegExp
  params: number
  responses: Record<string, { content?: Record<string, { schema?: object }> }>
}

const ajv = new Ajv2020({ strict: false, allErrors: true })
const documents = new Map<string, Promise<Operation[] | null>>()

/** The operations of the server at `base`, read once from its `/openapi.json` (null when it serves none). */
function operationsOf(base: string): Promise<Operation[] | null> {
  let ops = documents.get(base)
  if (!ops) {
    ops = fetch(`${base}/openapi.json`).then(async (res) => {
      if (res.status !== 200) return null
      const doc = (await res.json()) as { paths: Record<string, Record<string, Operation['responses'] extends infer R ? { responses: R } : never>> }
      const out: Operation[] = []
      for (const [template, methods] of Object.entries(doc.paths)) {
        const source = template.split('/').map((seg) => (seg.startsWith('{') ? '[^/]+' : seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
        for (const [method, op] of Object.entries(methods)) {
          out.push({
            method: method.toUpperCase(),
            template,
            pattern: new RegExp(`^${source.join('/')}/?$`),
            params: (template.match(/\{/g) ?? []).length,
            responses: op.responses,
          })
        }
      }
      // A literal segment wins over a parameter (`/session/others` before `/session/{session_id}`).
      return out.sort((a, b) => a.params - b.params)
    })
    documents.set(base, ops)
  }
  return ops
}

/**
 * Checks a JSON answer against the server's own OpenAPI document: the operation's schema for
 * that status, or its `default` (the error envelope). Throws, failing the test, on a mismatch.
 * Paths the document does not describe (404s of unknown paths) are not checked.
 */
export async function checkResponse(base: string, method: string, path: string, status: number, body: unknown): Promise<void> {
  const ops = await operationsOf(base)
  if (!ops) return
  const bare = path.split('?')[0]!
  const op = ops.find((o) => o.method === method.toUpperCase() && o.pattern.test(bare))
  if (!op) return
  const response = op.responses[String(status)] ?? op.responses.default
  if (!response) throw new Error(`${method} ${op.template} answered ${status}, which /openapi.json does not describe`)
  const schema = response.content?.['application/json']?.schema
  if (!schema) return
  const validate = ajv.compile(schema)
  if (!validate(body)) {
    throw new Error(
      `${method} ${path} → ${status} does not match /openapi.json (${op.template}): ${ajv.errorsText(validate.errors)}\n${JSON.stringify(body).slice(0, 500)}`,
    )
  }
}
