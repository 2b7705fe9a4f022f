/** The SDK's public types, one list for both entries. */
export type { SessionView } from '../views.js'
export type { ServerFrame } from '../gateway/frames.js'
export type { EndReason } from './close-policy.js'
export type { ClientOptions, LoginInput, SignedIn } from './client.js'
export type { Connection, ConnectionEvents, ConnectionState, ReconnectOptions, Welcome } from './connection.js'
export type { Credentials } from './http.js'
export type { Timers } from './socket.js'
