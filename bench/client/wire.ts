/**
 * A minimal WebSocket client written straight on a TCP socket, so that the load generator costs
 * far less CPU per handshake than the server it measures (the `ws` and `socket.io-client`
 * libraries cost about as much as a bare `ws` server, which would cap every result at the
 * client's speed). The server cannot tell it from a library client: same upgrade request,
 * masked frames, close handshake. It speaks chatgate's protocol (Token + Username headers, first
 * frame `welcome`) and Socket.IO 4's (engine.io v4 open packet, CONNECT with the `auth` payload,
 * `welcome` event), replies to pings, and reports the close code.
 */
import { createHash } from 'node:crypto'
import { connect, type Socket } from 'node:net'
import type { ClientCredential, Conn } from './dial.js'

const KEY = 'YmVuY2gtY2xpZW50LWtleQ==' // base64 of 16 bytes; the server only hashes it
const ACCEPT = createHash('sha1').update(`${KEY}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64')
const DIAL_TIMEOUT_MS = 15_000

const OP_TEXT = 0x1
const OP_CLOSE = 0x8
const OP_PING = 0x9

/** A masked client frame (mask key 0: valid, and the payload needs no copy). */
function frame(opcode: number, payload: Buffer): Buffer {
  const len = payload.length
  const head = len < 126 ? Buffer.from([0x80 | opcode, 0x80 | len]) : Buffer.from([0x80 | opcode, 0x80 | 126, len >> 8, len & 0xff])
  return Buffer.concat([head, Buffer.alloc(4), payload])
}

const closeFrame = (code: number) => {
  const b = Buffer.alloc(2)
  b.writeUInt16BE(code)
  return frame(OP_CLOSE, b)
}

export interface WireTarget {
  protocol: 'ws' | 'socketio'
  host: string
  port: number
  /** Request path: /ws, or /socket.io/?EIO=4&transport=websocket. */
  path: string
  /** Source address to bind (another loopback address for more ephemeral ports). */
  localAddress?: string
}

/** Parses ws://host:port/path or http://host:port (Socket.IO) into a wire target. */
export function wireTarget(protocol: 'ws' | 'socketio', url: string, localAddress?: string): WireTarget {
  const u = new URL(url)
  const path = protocol === 'ws' ? u.pathname : '/socket.io/?EIO=4&transport=websocket'
  return { protocol, host: u.hostname, port: Number(u.port), path, ...(localAddress ? { localAddress } : {}) }
}

function upgradeRequest(t: WireTarget, cred: ClientCredential): string {
  const auth = t.protocol === 'ws' ? `Token: ${cred.token}\r\nUsername: ${cred.username}\r\n` : ''
  return (
    `GET ${t.path} HTTP/1.1\r\nHost: ${t.host}:${t.port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
    `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${KEY}\r\n${auth}\r\n`
  )
}

/** Dials, completes the protocol's handshake and resolves on the welcome. */
export function dialWire(t: WireTarget, cred: ClientCredential): Promise<Conn> {
  const start = performance.now()
  const sock: Socket = connect({ host: t.host, port: t.port, noDelay: true, ...(t.localAddress ? { localAddress: t.localAddress } : {}) })
  sock.write(upgradeRequest(t, cred))
  let buf: Buffer = Buffer.alloc(0)
  let upgraded = false
  let welcomed = false
  let closeCode = 1006
  let sentClose = false
  let resolveClosed!: (code: number) => void
  const closed = new Promise<number>((r) => (resolveClosed = r))
  let resolveSeen!: (seen: { code: number; at: number }) => void
  const closeSeen = new Promise<{ code: number; at: number }>((r) => (resolveSeen = r))
  sock.once('close', () => {
    resolveSeen({ code: closeCode, at: performance.now() }) // no-op when the frame came first
    resolveClosed(closeCode)
  })

  const sendClose = (code: number) => {
    if (sentClose || sock.destroyed) return
    sentClose = true
    if (t.protocol === 'socketio' && code === 1000) sock.write(frame(OP_TEXT, Buffer.from('41'))) // Socket.IO DISCONNECT
    sock.write(closeFrame(code))
  }

  return new Promise<Conn>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`no welcome within ${DIAL_TIMEOUT_MS} ms`)), DIAL_TIMEOUT_MS)
    const fail = (err: Error) => {
      clearTimeout(timer)
      sock.destroy()
      reject(err)
    }
    const welcome = () => {
      welcomed = true
      clearTimeout(timer)
      resolve({
        latencyMs: performance.now() - start,
        closed,
        closeSeen,
        close() {
          sendClose(1000)
          return closed
        },
      })
    }
    const onText = (text: string) => {
      if (welcomed) {
        if (t.protocol === 'socketio' && text === '2') sock.write(frame(OP_TEXT, Buffer.from('3'))) // engine.io ping → pong
        return
      }
      if (t.protocol === 'ws') {
        if (text.startsWith('{"type":"welcome"')) return welcome()
        return fail(new Error(`first frame is not a welcome: ${text.slice(0, 100)}`))
      }
      if (text.startsWith('0{')) {
        return void sock.write(frame(OP_TEXT, Buffer.from(`40${JSON.stringify({ token: cred.token, username: cred.username })}`)))
      }
      if (text.startsWith('40')) return // CONNECT accepted; the welcome event follows
      if (text.startsWith('42["welcome"')) return welcome()
      if (text.startsWith('44')) return fail(new Error(`socket.io refused: ${text.slice(2, 200)}`))
    }

    sock.on('error', (err) => (welcomed ? undefined : fail(err)))
    sock.on('end', () => {
      if (!welcomed) fail(new Error(`connection ended before the welcome (${buf.toString('latin1', 0, 200)})`))
      sock.end()
    })
    sock.on('data', (chunk: Buffer) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk])
      if (!upgraded) {
        const end = buf.indexOf('\r\n\r\n')
        if (end < 0) return
        const head = buf.toString('latin1', 0, end)
        if (!head.startsWith('HTTP/1.1 101')) {
          // A refusal: status line and (part of) the JSON body.
          return fail(new Error(`upgrade refused: ${buf.toString('utf8', 0, Math.min(buf.length, 600)).replace(/\r\n/g, ' | ')}`))
        }
        if (!head.includes(ACCEPT)) return fail(new Error('wrong Sec-WebSocket-Accept'))
        upgraded = true
        buf = buf.subarray(end + 4)
      }
      // Server frames are unmasked; payloads here are small (< 64 KiB).
      while (buf.length >= 2) {
        const opcode = buf[0]! & 0x0f
        let len = buf[1]! & 0x7f
        let offset = 2
        if (len === 126) {
          if (buf.length < 4) return
          len = buf.readUInt16BE(2)
          offset = 4
        } else if (len === 127) {
          if (buf.length < 10) return
          len = Number(buf.readBigUInt64BE(2))
          offset = 10
        }
        if (buf.length < offset + len) return
        const payload = buf.subarray(offset, offset + len)
        buf = buf.subarray(offset + len)
        if (opcode === OP_TEXT) onText(payload.toString('utf8'))
        else if (opcode === OP_PING) sock.write(frame(0xa, Buffer.from(payload)))
        else if (opcode === OP_CLOSE) {
          closeCode = payload.length >= 2 ? payload.readUInt16BE(0) : 1005
          resolveSeen({ code: closeCode, at: performance.now() })
          if (!welcomed) return fail(new Error(`closed with ${closeCode} before the welcome`))
          sendClose(closeCode) // echo, then the server ends the TCP connection
        }
      }
    })
  })
}
