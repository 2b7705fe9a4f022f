import { randomBytes } from 'node:crypto'
import { startNodeProcess, type NodeProcess } from './node-process.js'
import { deleteRedisKeys, dropSchema, newSchemaName, pgUrlFor, redisKeysUnder, TEST_REDIS_URL } from './services.js'

/** The service token every node of a test cluster accepts. */
export const CLUSTER_SERVICE_TOKEN = 'svc-token-0123456789-abcdefghijklmnop-cluster'
/** Headers of a chat backend (the service token) calling `/admin/*`. */
export const serviceHeaders = { Authorization: `Bearer ${CLUSTER_SERVICE_TOKEN}` }

/**
 * Several chatgate nodes as child processes on one fresh PostgreSQL schema and one fresh Redis
 * prefix: one gateway, as a load balancer would spread it. `close()` stops every node and removes
 * the schema and every Redis key under the prefix (the shared servers are never flushed).
 */
export interface Cluster {
  /** The nodes by NODE_ID (`node-a`, `node-b`, …). */
  readonly nodes: Record<string, NodeProcess>
  readonly schema: string
  readonly databaseUrl: string
  readonly redisPrefix: string
  /** Starts one more node on the same schema and prefix (`env` on top of the cluster's). */
  add(nodeId: string, env?: Record<string, string>): Promise<NodeProcess>
  /** Keys under the prefix right now (checks that shared state really lives in Redis). */
  redisKeys(): Promise<string[]>
  close(): Promise<void>
}

export interface ClusterOptions {
  /** NODE_IDs of the nodes started at once (in parallel). */
  nodeIds: string[]
  /** Settings of every node (REDIS_URL defaults to the test server). */
  env?: Record<string, string>
}

/** Starts the nodes in parallel; if one fails to start, the others are stopped and the schema dropped. */
export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const schema = newSchemaName()
  const databaseUrl = pgUrlFor(schema)
  const redisPrefix = `cgt:${randomBytes(4).toString('hex')}:`
  const nodes: Record<string, NodeProcess> = {}
  const base = {
    DATABASE_URL: databaseUrl,
    REDIS_URL: TEST_REDIS_URL,
    REDIS_PREFIX: redisPrefix,
    CHATGATE_SERVICE_TOKEN: CLUSTER_SERVICE_TOKEN,
    ...options.env,
  }
  async function add(nodeId: string, env: Record<string, string> = {}): Promise<NodeProcess> {
    const node = await startNodeProcess({ ...base, NODE_ID: nodeId, ...env })
    nodes[nodeId] = node
    return node
  }
  async function close(): Promise<void> {
    await Promise.all(Object.values(nodes).map((n) => n.stop()))
    await dropSchema(schema)
    await deleteRedisKeys(redisPrefix)
  }

  const started = await Promise.allSettled(options.nodeIds.map((id) => add(id)))
  const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected')
  if (failed) {
    await close().catch(() => undefined)
    throw failed.reason
  }
  return { nodes, schema, databaseUrl, redisPrefix, add, redisKeys: () => redisKeysUnder(redisPrefix), close }
}

/** A device as `GET /admin/devices` lists it. */
export interface ListedDevice {
  connection_id: string
  session_id: string
  username: string
  node_id: string
}

/** `GET /admin/devices` on `node` (service token), optionally for one user: what operators see. */
export async function listDevices(node: NodeProcess, username?: string): Promise<ListedDevice[]> {
  const query = username ? `?username=${encodeURIComponent(username)}` : ''
  const res = await fetch(`${node.url}/admin/devices${query}`, { headers: serviceHeaders })
  const body = (await res.json()) as { result: { devices: ListedDevice[] } }
  if (res.status !== 200) throw new Error(`GET /admin/devices: ${res.status} ${JSON.stringify(body)}`)
  return body.result.devices
}
