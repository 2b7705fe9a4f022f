import type { ErrorCode } from '../errors.js'
import type { SessionView } from '../views.js'
import type { TerminalCloseName } from './close-codes.js'

/** Encoders of the server → client frames (JSON text); the only place their shapes are written. */

export const PONG_FRAME = '{"type":"pong"}'

/** Codes an `error` frame carries. */
export type FrameErrorCode = Extract<ErrorCode, 'BAD_REQUEST' | 'UNKNOWN_TYPE'>

export interface WelcomeInfo {
  connectionId: string
  sessionId: string
  userId: string
  username: string
  heartbeatMs: number
  devices: SessionView[]
}

/** The first frame of every accepted socket. */
export function welcomeFrame(w: WelcomeInfo): string {
  return JSON.stringify({
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
export const devicesFrame = (devices: SessionView[]): string => JSON.stringify({ type: 'devices', devices })

/** Sent just before a 45xx close; `reason` is the close code's name. */
export const revokedFrame = (reason: TerminalCloseName): string => `{"type":"revoked","reason":"${reason}"}`

/** A client frame the server could not use; the socket stays open. */
export const errorFrame = (code: FrameErrorCode): string => `{"type":"error","error_code":"${code}"}`

/** A backend push. */
export const eventFrame = (data: unknown): string => JSON.stringify({ type: 'event', data })
