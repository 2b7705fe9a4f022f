import type { ErrorCode } from '../errors.js'
import type { SessionView } from '../views.js'
import type { TerminalCloseName } from './close-codes.js'

/**
 * The live frames (JSON text) as they travel, and the encoders of the server → client ones: the
 * only place their shapes are written. The client SDK (src/client/) reads these same types.
 * Type-only imports above, so the browser bundle takes nothing from the server but the names.
 */

/** Codes an `error` frame carries. */
export type FrameErrorCode = Extract<ErrorCode, 'BAD_REQUEST' | 'UNKNOWN_TYPE'>

export interface WelcomeFrame {
  type: 'welcome'
  connection_id: string
  session_id: string
  user_id: string
  username: string
  heartbeat_ms: number
  devices: SessionView[]
}
export interface DevicesFrame {
  type: 'devices'
  devices: SessionView[]
}
export interface RevokedFrame {
  type: 'revoked'
  reason: TerminalCloseName
}
export interface ErrorFrame {
  type: 'error'
  error_code: FrameErrorCode
}
export interface EventFrame {
  type: 'event'
  data: unknown
}
export interface PongFrame {
  type: 'pong'
}
/** Every frame the server sends. */
export type ServerFrame = WelcomeFrame | DevicesFrame | RevokedFrame | ErrorFrame | EventFrame | PongFrame

/** The one client → server frame. */
export const PING_FRAME = '{"type":"ping"}'
export const PONG_FRAME = '{"type":"pong"}'

export interface WelcomeInfo {
  connectionId: string
  sessionId: string
  userId: string
  username: string
  heartbeatMs: number
  devices: SessionView[]
}

const encode = (frame: ServerFrame): string => JSON.stringify(frame)

/** The first frame of every accepted socket. */
export function welcomeFrame(w: WelcomeInfo): string {
  return encode({
    type: 'welcome',
    connection_id: w.connectionId,
    session_id: w.sessionId,
    user_id: w.userId,
    username: w.username,
    heartbeat_ms: w.heartbeatMs,
    devices: w.devices,
  })
}

/** The user's device list changed. */
export const devicesFrame = (devices: SessionView[]): string => encode({ type: 'devices', devices })

/** Sent just before a 45xx close; `reason` is the close code's name. */
export const revokedFrame = (reason: TerminalCloseName): string => encode({ type: 'revoked', reason })

/** A client frame the server could not use; the socket stays open. */
export const errorFrame = (code: FrameErrorCode): string => encode({ type: 'error', error_code: code })

/** A backend push. */
export const eventFrame = (data: unknown): string => encode({ type: 'event', data })
