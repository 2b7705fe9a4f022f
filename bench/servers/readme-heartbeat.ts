/**
 * The heartbeat of ws's own README ("How to detect and close broken connections"), for the
 * reference servers in the held-connection scenario (decision 0353): every period, a socket that
 * did not answer the last ping is terminated and every other one is pinged, in one pass over the
 * server's tracked clients.
 */
import type { WebSocket, WebSocketServer } from 'ws'

const alive = Symbol('alive')
type Tracked = WebSocket & { [alive]?: boolean }

function heartbeat(this: Tracked): void {
  this[alive] = true
}

export interface ReadmeHeartbeat {
  /** Call for every accepted socket. */
  track(ws: WebSocket): void
  stop(): void
}

/** Starts pinging `wss.clients` every `periodMs` (the server must track its clients). */
export function startReadmeHeartbeat(wss: WebSocketServer, periodMs: number): ReadmeHeartbeat {
  const timer = setInterval(() => {
    for (const ws of wss.clients as Set<Tracked>) {
      if (ws[alive] === false) {
        ws.terminate()
        continue
      }
      ws[alive] = false
      ws.ping()
    }
  }, periodMs)
  return {
    track(ws: Tracked) {
      ws[alive] = true
      ws.on('pong', heartbeat)
    },
    stop: () => clearInterval(timer),
  }
}

/** HEARTBEAT_MS from the environment: the period, or 0 for no heartbeat (the throughput scenarios). */
export const heartbeatFromEnv = (): number => Number(process.env.HEARTBEAT_MS || 0)
