import { connect, type Socket } from 'node:net'

/** A raw TCP client for what fetch cannot send: slow bytes, bad headers, lies about lengths. */
export interface RawClient {
  socket: Socket
  /** Everything the server sent so far, as latin1 text. */
  received(): string
  /** Resolves when the server closed the connection (end or reset), with the time it took since connect. */
  closed: Promise<{ afterMs: number }>
  /** True once the server closed the connection. */
  isClosed(): boolean
  write(data: string | Buffer): Promise<void>
  destroy(): void
}

/** Opens a raw connection to 127.0.0.1:port. */
export function openRaw(port: number): Promise<RawClient> {
  return new Promise((resolve, reject) => {
    const started = Date.now()
    const socket = connect(port, '127.0.0.1')
    let data = ''
    let done = false
    socket.on('data', (d) => (data += d.toString('latin1')))
    const closed = new Promise<{ afterMs: number }>((res) => {
      const finish = () => {
        if (!done) {
          done = true
          res({ afterMs: Date.now() - started })
        }
      }
      socket.on('end', finish)
      socket.on('close', finish)
      socket.on('error', finish)
    })
    socket.once('connect', () =>
      resolve({
        socket,
        received: () => data,
        closed,
        isClosed: () => done,
        write: (chunk) =>
          new Promise((res) => {
            if (socket.destroyed || !socket.writable) return res()
            socket.write(chunk, () => res())
          }),
        destroy: () => socket.destroy(),
      }),
    )
    socket.once('error', reject)
  })
}

/** The status code of the first response in raw HTTP text, or null. */
export const statusOf = (text: string): number | null => {
  const m = /^HTTP\/1\.1 (\d{3})/.exec(text)
  return m ? Number(m[1]) : null
}

/** The JSON body of the first response in raw HTTP text (Content-Length framed). */
export function bodyOf(text: string): any {
  const split = text.indexOf('\r\n\r\n')
  const head = text.slice(0, split)
  const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? NaN)
  return JSON.parse(text.slice(split + 4, split + 4 + length))
}

/** Whether raw HTTP text holds a whole first response: its head, and as many body bytes as its Content-Length says. */
export function hasCompleteResponse(text: string): boolean {
  const split = text.indexOf('\r\n\r\n')
  if (split < 0) return false
  const length = /content-length: (\d+)/i.exec(text.slice(0, split))?.[1]
  // latin1 text: one character per byte.
  return length === undefined || text.length - (split + 4) >= Number(length)
}

/** Counts the complete responses (status lines) in raw HTTP text. */
export const responseCount = (text: string): number => text.match(/HTTP\/1\.1 \d{3}/g)?.length ?? 0
