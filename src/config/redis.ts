/**
 * Where Redis is: one endpoint (`REDIS_URL`), a Sentinel-watched master
 * (`REDIS_SENTINELS`) or a Redis Cluster (`REDIS_CLUSTER_NODES`). Pure: parsed
 * from the environment by `loadConfig`, connected by `redis/connection.ts`.
 */

export interface HostPort { host: string, port: number }

export type RedisTopology =
  | { kind: 'standalone', url: string }
  | { kind: 'sentinel', sentinels: HostPort[], masterName: string }
  | { kind: 'cluster', nodes: HostPort[] }

export interface RedisSettings {
  topology: RedisTopology
  /** Data password (REDIS_PASSWORD); a URL may carry its own instead. */
  password?: string
  sentinelPassword?: string
  /** TLS: `rediss://`, REDIS_TLS=true, or a private CA (REDIS_TLS_CA_FILE). */
  tls: boolean
  tlsCaFile?: string
  /** Replicas that must confirm an acknowledged write (WAIT); 0 = off. */
  minReplicaAcks: number
  replicaAckTimeoutMs: number
}

/** The three ways to name Redis; exactly one may be set. */
export const REDIS_TOPOLOGY_VARIABLES = ['REDIS_URL', 'REDIS_SENTINELS', 'REDIS_CLUSTER_NODES'] as const

/**
 * `host:port,host:port` (IPv6 in brackets: `[::1]:26379`). Returns the entries,
 * or the first malformed one.
 */
export function parseHostList (value: string): { ok: true, hosts: HostPort[] } | { ok: false, bad: string } {
  const entries = value.split(',').map((s) => s.trim()).filter((s) => s !== '')
  if (entries.length === 0) return { ok: false, bad: value }
  const hosts: HostPort[] = []
  for (const entry of entries) {
    const m = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(entry)
    const port = Number(m?.[3])
    if (!m || !(port >= 1 && port <= 65535)) return { ok: false, bad: entry }
    hosts.push({ host: m[1] ?? m[2] ?? '', port })
  }
  return { ok: true, hosts }
}

/** host:port of a Redis URL, without credentials, for log lines. */
export function redisUrlTarget (url: string): string {
  const u = new URL(url)
  return `${u.hostname}:${u.port || 6379}${u.pathname.length > 1 ? u.pathname : ''}`
}

/** A phrase for logs and readiness: where this process looks for Redis, never a credential. */
export function describeTopology (t: RedisTopology): string {
  if (t.kind === 'standalone') return `single node ${redisUrlTarget(t.url)}`
  if (t.kind === 'sentinel') return `sentinel master "${t.masterName}" via ${t.sentinels.map(hostPort).join(',')}`
  return `cluster via ${t.nodes.map(hostPort).join(',')}`
}

export function hostPort (h: HostPort): string {
  return h.host.includes(':') ? `[${h.host}]:${h.port}` : `${h.host}:${h.port}`
}
