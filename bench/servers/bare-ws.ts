/**
 * Reference server 1: bare `ws`, no authentication. Accepts every upgrade on /ws and sends one
 * small welcome frame, nothing else. `GET /healthz` answers for the runner's readiness check.
 * With HEARTBEAT_MS set (the held-connection scenario: the same period as chatgate's default), it
 * runs the heartbeat of ws's own README (readme-heartbeat.ts).
 */
import { randomUUID } from 'node:crypto'
import { createServer } from 'node:http'
import { WebSocketServer } from 'ws'
import { exitOnSignals, readReferenceEnv } from './env.js'
import { heartbeatFromEnv, startReadmeHeartbeat } from './readme-heartbeat.js'

const { port, host } = readReferenceEnv()
const server = createServer((req, res) => {
  const ok = req.url === '/healthz'
  res.writeHead(ok ? 200 : 404, { 'content-type': 'application/json' }).end(ok ? '{"ok":true}' : '{}')
})
const wss = new WebSocketServer({ server, path: '/ws', perMessageDeflate: false, maxPayload: 64 * 1024 })
const heartbeatMs = heartbeatFromEnv()
const heartbeat = heartbeatMs > 0 ? startReadmeHeartbeat(wss, heartbeatMs) : undefined
wss.on('connection', (ws) => {
  heartbeat?.track(ws)
  ws.send(JSON.stringify({ type: 'welcome', connection_id: randomUUID() }))
})
server.listen(port, host)
exitOnSignals(() => {
  heartbeat?.stop()
  server.close()
})
