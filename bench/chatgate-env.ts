import { loadConfig } from '../src/config.js'

/** chatgate's default HEARTBEAT_MS, read from its config; bare ws pings at the same period in the held-connection scenario. */
export const DEFAULT_HEARTBEAT_MS = loadConfig({}).heartbeatMs

/**
 * The environment chatgate runs with in the benchmark (see src/config.ts for every name). Caps
 * that protect production from one client are raised, because the load generator is one client
 * on one IP holding up to 10k sockets; everything else stays at its default.
 */
export function chatgateEnv(options: { defaultHeartbeat?: boolean } = {}): Record<string, string> {
  return {
    LOG_LEVEL: 'warn',
    NODE_ID: 'bench',
    // No server pings during the throughput runs; the held-connection and storm scenarios keep the
    // default heartbeat (the idle cost they measure includes it).
    ...(options.defaultHeartbeat ? {} : { HEARTBEAT_MS: '600000' }),
    MAX_CONNECTIONS_PER_USER: '100000',
    MAX_CONNECTIONS_PER_IP: '1000000',
    // Abuse limits (src/limits) would throttle a single benchmarking IP after a few requests.
    UPGRADES_PER_IP_PER_MIN: '1000000',
    LOGIN_ATTEMPTS_PER_IP_PER_MIN: '1000000',
    LOGIN_ATTEMPTS_PER_ACCOUNT_PER_MIN: '1000000',
    // The fixture already holds an admin; this only keeps a random password from being printed.
    CHATGATE_ADMIN_PASSWORD: 'bench-admin-password',
    // The fixture's hashes are made at this cost; logins compare against them.
    BCRYPT_COST: '10',
    SHUTDOWN_GRACE_MS: '2000',
  }
}
