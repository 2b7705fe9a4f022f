/**
 * Reference server 3: the same work as chatgate's handshake and nothing else, on `ws`. Per
 * upgrade on /ws: the Token + Username headers, sha256(token), the token's session and the user's
 * device list in one read through chatgate's own SQLite store (`findSessionWithDevices`, the
 * statement chatgate's handshake runs), the same live/kind/disabled/username checks, the upgrade,
 * a welcome frame with the device list, and one connection row per live connection, written
 * when it opens and removed when it closes (through chatgate's write-behind row writer: the
 * cheapest correct way to keep the rows). No rate limits, caps, registry, liveness, metrics or
 * logging: it is the yardstick for what those cost. `GET /healthz` answers for readiness. With
 * HEARTBEAT_MS set (the held-connection scenario), it pings like bare ws: ws's README heartbeat
 * (readme-heartbeat.ts).
 */
import { createServer } from 'node:http'
import pino from 'pino'
import { WebSocketServer } from 'ws'
import { createConnectionId } from '../../src/auth/tokens.js'
import { ConnectionRowWriter } from '../../src/gateway/row-writer.js'
import { openSqliteStore } from '../../src/store/sqlite.js'
import { exitOnSignals, readReferenceEnv } from './env.js'
import { heartbeatFromEnv, startReadmeHeartbeat } from './readme-heartbeat.js'
import { lookupWithDevices } from './token-auth.js'

const NODE_ID = 'same-work'
const HEARTBEAT_MS = 30_000

const { port, host, databaseUrl } = readReferenceEnv()
if (!databaseUrl) throw new Error('DATABASE_URL must name the fixture SQLite file')
const store = openSqliteStore(databaseUrl)
const started = Date.now()
await store.heartbeatNode(NODE_ID, started, started)
const rows = new ConnectionRowWriter({ store, log: pino({ level: 'error' }) })

const server = createServer((req, res) => {
  const ok = req.url === '/healthz'
  res.writeHead(ok ? 200 : 404, { 'content-type': 'application/json' }).end(ok ? '{"ok":true}' : '{}')
})
const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 64 * 1024 })
const pingEveryMs = heartbeatFromEnv()
const heartbeat = pingEveryMs > 0 ? startReadmeHeartbeat(wss, pingEveryMs) : undefined

const refuse = (socket: import('node:stream').Duplex, status: number, body: string) => {
  socket.end(
    `HTTP/1.1 ${status} ${status === 401 ? 'Unauthorized' : 'Error'}\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`,
  )
}

server.on('upgrade', (req, socket, head) => {
  socket.on('error', () => socket.destroy())
  if (req.url !== '/ws') return refuse(socket, 404, '{"error_code":"NOT_FOUND"}')
  const now = Date.now()
  lookupWithDevices(store, req.headers.token, req.headers.username, now, now - 3 * HEARTBEAT_MS).then(
    (found) => {
      if (!found) return refuse(socket, 401, '{"error_code":"UNAUTHORIZED"}')
      wss.handleUpgrade(req, socket, head, (ws) => {
        const id = createConnectionId()
        rows.recordOpened({
          id,
          sessionId: found.sessionId,
          userId: found.userId,
          nodeId: NODE_ID,
          ip: req.socket.remoteAddress ?? '',
          userAgent: req.headers['user-agent'] ?? '',
          connectedAt: now,
        })
        ws.on('close', () => rows.recordClosed(id))
        heartbeat?.track(ws)
        ws.send(
          JSON.stringify({
            type: 'welcome',
            connection_id: id,
            session_id: found.sessionId,
            user_id: found.userId,
            username: found.username,
            heartbeat_ms: HEARTBEAT_MS,
            devices: found.devices,
          }),
        )
      })
    },
    () => refuse(socket, 500, '{"error_code":"INTERNAL_ERROR"}'),
  )
})

server.listen(port, host)
exitOnSignals(() => {
  heartbeat?.stop()
  server.close()
})
