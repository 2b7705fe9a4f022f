/**
 * Reference server 1: bare `ws`, no authentication. Accepts every upgrade on /ws and sends one
 * small welcome frame, nothing else. `GET /healthz` answers for the runner's readiness check.
 * With HEARTBEAT_MS set (the held-connection scenario: the same period as chatgate's default), it
 * runs the heartbeat of ws's own README ("How to detect and close broken connections"): every
 * period, a socket that did not answer the last ping is terminated, every other one is pinged.
 */
import { randomUUID } from 'node:crypto'
import { createServer } from 'node:http'
import { type WebSocket, WebSocketServer } from 'ws'
import { exitOnSignals, readReferenceEnv } from './env.js'

const { port, host } = readReferenceEnv()
const server = createServer((req, res) => {
  const ok = req.url === '/healthz'
  res.writeHead(ok ? 200 : 404, { 'content-type': 'application/json' }).end(ok ? '{"ok":true}' : '{}')
})
const wss = new WebSocketServer({ server, path: '/ws', perMessageDeflate: false, maxPayload: 64 * 1024 })
const heartbeatMs = Number(process.env.HEARTBEAT_MS || 0)
const alive = Symbol('alive')
type Tracked = WebSocket & { [alive]?: boolean }
function heartbeat(this: Tracked): void {
  this[alive] = true
}
wss.on('connection', (ws: Tracked) => {
  if (heartbeatMs > 0) {
    ws[alive] = true
    ws.on('pong', heartbeat)
  }
  ws.send(JSON.stringify({ type: 'welcome', connection_id: randomUUID() }))
})
const pinger =
  heartbeatMs > 0
    ? setInterval(() => {
        for (const ws of wss.clients as Set<Tracked>) {
          if (ws[alive] === false) {
            ws.terminate()
            continue
          }
          ws[alive] = false
          ws.ping()
        }
      }, heartbeatMs)
    : undefined
server.listen(port, host)
exitOnSignals(() => {
  clearInterval(pinger)
  server.close()
})
