import { copyFileSync } from 'node:fs'
import { join } from 'node:path'
import { chatgateEnv, DEFAULT_HEARTBEAT_MS } from '../chatgate-env.js'
import type { ClientCredential, TargetSpec } from '../client/dial.js'
import type { Fixture } from '../fixtures.js'
import type { Placement } from '../machine.js'
import { startServer, type LoadClient, type RunningServer, type ServerKind } from '../processes.js'
import type { Profile } from '../profiles.js'
import type { Row } from '../report.js'

/** What every scenario gets from the runner. */
export interface RunContext {
  profile: Profile
  placement: Placement
  client: LoadClient
  clientKind: TargetSpec['client']
  /** Temp folder for fixtures and the servers' database copies. */
  workDir: string
  /** The shared fixture (token users, login accounts). */
  fixture: Fixture
  /** Set with --profile: chatgate writes V8 CPU profiles here. */
  cpuProfDir: string | undefined
  /** Set with --heap: the memory scenario writes chatgate's heap snapshots here. */
  heapDir: string | undefined
  /** The open-files limit every process of the run has (`ulimit -n`). */
  fdLimit: number
  log(line: string): void
}

export type Scenario = (ctx: RunContext) => Promise<Row[]>

let copies = 0

/**
 * Starts a server on its own copy of `dbPath` (chatgate writes to its file, and every run must
 * start from the same state), or on the file itself when `own` says it serves no other run.
 */
export function startOn(
  ctx: RunContext,
  kind: ServerKind,
  dbPath = ctx.fixture.dbPath,
  own = false,
  options: { defaultHeartbeat?: boolean; port?: number; env?: Record<string, string>; nodeFlags?: string[] } = {},
): Promise<RunningServer> {
  let file = dbPath
  if (!own) {
    file = join(ctx.workDir, `${kind}-${++copies}.db`)
    copyFileSync(dbPath, file)
  }
  return startServer({
    kind,
    dbPath: file,
    cpu: ctx.placement.serverCpu,
    // Bare ws and the same-work server run the heartbeat of ws's README at chatgate's default period when chatgate runs with its default.
    env:
      kind === 'chatgate'
        ? { ...chatgateEnv(options), ...options.env }
        : (kind === 'ws' || kind === 'samework') && options.defaultHeartbeat
          ? { HEARTBEAT_MS: String(DEFAULT_HEARTBEAT_MS) }
          : {},
    ...(options.port ? { port: options.port } : {}),
    ...(options.nodeFlags ? { nodeFlags: options.nodeFlags } : {}),
    // One folder per server kind, so that chatgate's profile can be read next to the references'.
    cpuProfDir: ctx.cpuProfDir ? join(ctx.cpuProfDir, kind) : undefined,
  })
}

/** The target the load generator dials for a running server. */
export const targetOf = (ctx: RunContext, server: RunningServer, client = ctx.clientKind): TargetSpec => ({
  protocol: server.kind === 'socketio' ? 'socketio' : 'ws',
  url: server.dialUrl,
  client,
})

/** Credentials as the client process needs them (token and username only). */
export const asClientCredentials = (creds: { token: string; username: string }[]): ClientCredential[] =>
  creds.map(({ token, username }) => ({ token, username }))

/** Short message of an error for the table. */
export const reason = (e: unknown) => (e instanceof Error ? e.message : String(e)).split('\n')[0]!.slice(0, 160)
