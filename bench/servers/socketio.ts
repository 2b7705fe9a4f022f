/**
 * Reference server 2: Socket.IO 4 with authentication in `io.use`: the client's `auth`
 * payload `{token, username}` is checked against the chatgate SQLite file with the same lookup as
 * chatgate's handshake (the token's session and the user's devices in one statement), then the
 * server emits a `welcome` carrying the device list. `GET /healthz` answers for readiness.
 */
import { createServer } from 'node:http'
import { Server } from 'socket.io'
import { openSqliteStore } from '../../src/store/sqlite.js'
import { exitOnSignals, readReferenceEnv } from './env.js'
import { lookupWithDevices, type TokenOwnerWithDevices } from './token-auth.js'

const { port, host, databaseUrl } = readReferenceEnv()
if (!databaseUrl) throw new Error('DATABASE_URL must name the fixture SQLite file')
const store = openSqliteStore(databaseUrl)

const server = createServer((req, res) => {
  const ok = req.url === '/healthz'
  res.writeHead(ok ? 200 : 404, { 'content-type': 'application/json' }).end(ok ? '{"ok":true}' : '{}')
})
const io = new Server(server, { serveClient: false, transports: ['websocket'], perMessageDeflate: false, maxHttpBufferSize: 64 * 1024 })

io.use((socket, next) => {
  const { token, username } = socket.handshake.auth as { token?: unknown; username?: unknown }
  const now = Date.now()
  lookupWithDevices(store, token, username, now, now - 90_000).then(
    (owner) => {
      if (!owner) return next(new Error('UNAUTHORIZED'))
      socket.data.owner = owner
      next()
    },
    () => next(new Error('INTERNAL_ERROR')),
  )
})

io.on('connection', (socket) => {
  const owner = socket.data.owner as TokenOwnerWithDevices
  socket.emit('welcome', {
    type: 'welcome',
    connection_id: socket.id,
    session_id: owner.sessionId,
    user_id: owner.userId,
    username: owner.username,
    devices: owner.devices,
  })
})

server.listen(port, host)
exitOnSignals(() => {
  io.close()
  void store.close()
})
