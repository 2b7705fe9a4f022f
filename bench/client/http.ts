import { Agent, request } from 'node:http'

export interface HttpAnswer {
  status: number
  body: string
}

/** No request in a benchmark may hang the run. */
const REQUEST_TIMEOUT_MS = 30_000

/** One HTTP request over a keep-alive agent; resolves with status and body text. */
export function httpCall(agent: Agent, base: string, method: string, path: string, headers: Record<string, string> = {}, json?: unknown): Promise<HttpAnswer> {
  const body = json === undefined ? undefined : JSON.stringify(json)
  const all = body === undefined ? headers : { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) }
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, base), { method, agent, headers: all, timeout: REQUEST_TIMEOUT_MS }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (d: string) => (text += d))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }))
      res.on('error', reject)
    })
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer within ${REQUEST_TIMEOUT_MS} ms`)))
    req.on('error', reject)
    req.end(body)
  })
}

/** A keep-alive agent holding up to `sockets` connections. */
export const keepAliveAgent = (sockets: number) => new Agent({ keepAlive: true, maxSockets: sockets })
