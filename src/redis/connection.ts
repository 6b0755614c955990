import { readFileSync } from 'node:fs'
import type { ConnectionOptions } from 'bullmq'
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis'
import { describeTopology, redisUrlTarget, type RedisSettings } from '../config/redis.js'
import { BULL_PREFIX } from './hash-tag.js'
import { legacyKeysPresent } from './legacy-keys.js'
import { RedisUnavailable } from './bounded.js'

/** The command connection: one endpoint, a Sentinel-watched master, or a cluster. */
export type RedisClient = Redis | Cluster


/** Options of every command connection: request paths fail fast rather than queue behind an outage. */
const FAIL_FAST: RedisOptions = {
  enableOfflineQueue: false,
  maxRetriesPerRequest: 1,
  commandTimeout: 1000,
  connectTimeout: 2000,
}

function tlsOptions (s: RedisSettings): RedisOptions {
  if (!s.tls) return {}
  return { tls: s.tlsCaFile !== undefined ? { ca: readFileSync(s.tlsCaFile, 'utf8') } : {} }
}

/** ioredis options for one node or a Sentinel master (not a cluster), on top of `extra`. */
function nodeOptions (s: RedisSettings, extra: RedisOptions): RedisOptions {
  const t = s.topology
  const common: RedisOptions = { ...extra, ...tlsOptions(s), ...(s.password !== undefined ? { password: s.password } : {}) }
  if (t.kind === 'standalone') {
    const u = new URL(t.url)
    return {
      host: u.hostname,
      port: Number(u.port || 6379),
      ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
      ...(u.password && s.password === undefined ? { password: decodeURIComponent(u.password) } : {}),
      ...(u.pathname.length > 1 ? { db: Number(u.pathname.slice(1)) } : {}),
      ...common,
    }
  }
  if (t.kind === 'sentinel') {
    return {
      sentinels: t.sentinels,
      name: t.masterName,
      ...(s.sentinelPassword !== undefined ? { sentinelPassword: s.sentinelPassword } : {}),
      ...(s.tls ? { enableTLSForSentinelMode: true, sentinelTLS: tlsOptions(s).tls ?? {} } : {}),
      // Subscribes to the sentinels' +switch-master: a failover is seen at once, not at the next error.
      failoverDetector: true,
      role: 'master',
      ...common,
    }
  }
  throw new Error('a cluster has no single-node options')
}

function clusterOf (s: RedisSettings, redisOptions: RedisOptions, extra: ClusterOptions = {}): Cluster {
  if (s.topology.kind !== 'cluster') throw new Error('not a cluster')
  const opts: ClusterOptions = {
    ...extra,
    redisOptions: { ...redisOptions, ...tlsOptions(s), ...(s.password !== undefined ? { password: s.password } : {}) },
    // Cluster nodes announce the addresses the cluster was built with; with TLS keep the configured names.
    ...(s.tls ? { dnsLookup: (address, callback) => callback(null, address) } : {}),
  }
  return new Cluster(s.topology.nodes.map((n) => ({ host: n.host, port: n.port })), opts)
}

/** The command connection (not yet connected: call `connect()`). */
export function createRedisClient (s: RedisSettings): RedisClient {
  if (s.topology.kind === 'cluster') {
    return clusterOf(s, { commandTimeout: FAIL_FAST.commandTimeout, connectTimeout: FAIL_FAST.connectTimeout }, {
      enableOfflineQueue: false,
      lazyConnect: true,
      // A moved slot or a failover is retried a few times within one command.
      maxRedirections: 16,
      retryDelayOnFailover: 100,
      retryDelayOnClusterDown: 100,
    })
  }
  return new Redis({ ...nodeOptions(s, FAIL_FAST), lazyConnect: true })
}

/**
 * BullMQ's connection: options (BullMQ opens its own connections, blocking
 * commands need no per-request retry cap) or, for a cluster, one shared
 * instance, which the caller closes after the queues.
 */
export function createBullConnection (s: RedisSettings): { connection: ConnectionOptions, close (): Promise<void> } {
  if (s.topology.kind === 'cluster') {
    const cluster = clusterOf(s, { maxRetriesPerRequest: null })
    return { connection: cluster, close: async () => { await cluster.quit().catch(() => cluster.disconnect()) } }
  }
  return { connection: nodeOptions(s, { maxRetriesPerRequest: null }), close: async () => {} }
}

/** Where this process looks for Redis, for the startup line; never a credential. */
export function redisTarget (s: RedisSettings): string {
  return s.topology.kind === 'standalone' ? redisUrlTarget(s.topology.url) : describeTopology(s.topology)
}

function infoField (info: string, name: string): string | undefined {
  return new RegExp(`^${name}:(.*)$`, 'm').exec(info)?.[1]?.trim()
}

/** Redis must never evict keys (jobs and idempotency records live there). */
function policyOf (info: string, where: string): string {
  const policy = infoField(info, 'maxmemory_policy')
  if (policy !== 'noeviction') throw new Error(`${where}: maxmemory-policy is ${policy ?? 'unknown'}; it must be noeviction`)
  return infoField(info, 'aof_enabled') === '1' ? 'appendonly yes' : 'appendonly no (acknowledged jobs may be lost on a crash)'
}

/**
 * Readiness: the topology and its master(s). Fails while no master answers, a
 * Sentinel-named node is not (or no longer) a master, a cluster is not `ok`,
 * or a master may evict keys.
 */
export async function checkRedis (client: RedisClient, s: RedisSettings): Promise<string> {
  const t = s.topology
  if (client instanceof Cluster) {
    const masters = client.nodes('master')
    if (masters.length === 0) throw new Error('no cluster master is reachable')
    const state = infoField(String(await client.cluster('INFO')), 'cluster_state')
    if (state !== 'ok') throw new Error(`cluster_state is ${state ?? 'unknown'}`)
    const aof = new Set<string>()
    for (const m of masters) aof.add(policyOf(await m.info(), `master ${m.options.host ?? ''}:${m.options.port ?? ''}`))
    return `cluster, ${masters.length} masters, ${client.nodes('all').length} nodes, state ok, noeviction, ${[...aof].join(' / ')}`
  }
  const info = await client.info()
  const role = infoField(info, 'role')
  const replicas = Number(infoField(info, 'connected_slaves') ?? 0)
  const aof = policyOf(info, 'redis')
  if (t.kind === 'sentinel') {
    if (role !== 'master') throw new Error(`the node the sentinels named is a ${role ?? 'unknown'}, not a master (failover in progress?)`)
    return `sentinel "${t.masterName}", master ${await masterAddress(client)}, ${replicas} replica${replicas === 1 ? '' : 's'}, noeviction, ${aof}`
  }
  return `single node ${redisUrlTarget(t.kind === 'standalone' ? t.url : '')}, role ${role ?? 'unknown'}, ${replicas} replica${replicas === 1 ? '' : 's'}, noeviction, ${aof}`
}

/** The address the server itself listens on for this connection (CLIENT INFO laddr). */
async function masterAddress (client: Redis): Promise<string> {
  const line = String(await client.call('CLIENT', 'INFO'))
  return /(?:^| )laddr=(\S+)/.exec(line)?.[1] ?? `${client.options.host ?? '?'}:${client.options.port ?? '?'}`
}

/**
 * Confirms on replicas the writes that acknowledge something to a caller (the
 * accepted request, an idempotency outcome, a webhook outbox entry) before the
 * answer: `WAIT` on the master holding `anchorKey`'s slot, which took those
 * writes on the same connection. Without replicas there is nothing to wait
 * for (and nothing the promise could rest on); a master with replicas that do
 * not confirm in time answers 503, so the caller retries rather than trusting
 * a write a failover could lose.
 */
export interface Durability {
  confirm (): Promise<void>
}

export const NO_DURABILITY: Durability = { confirm: async () => {} }

export function createDurability (client: RedisClient, opts: {
  anchorKey: string
  minAcks: number
  timeoutMs: number
  /** How long a replica count is reused. */
  refreshMs?: number
  onUnreplicated?: () => void
  now?: () => number
}): Durability {
  if (opts.minAcks === 0) return NO_DURABILITY
  const now = opts.now ?? Date.now
  const refreshMs = opts.refreshMs ?? 1000
  let known: { replicas: number, at: number } | undefined
  // A pipeline goes to the node of its first key: the anchor's master.
  const onAnchor = () => client.pipeline().exists(opts.anchorKey)
  const replicas = async (): Promise<number> => {
    if (known && now() - known.at < refreshMs) return known.replicas
    const [, info] = await exec(onAnchor().info('replication'))
    const count = Number(infoField(String(info), 'connected_slaves') ?? 0)
    known = { replicas: count, at: now() }
    return count
  }
  return {
    async confirm () {
      const have = await replicas()
      if (have === 0) { opts.onUnreplicated?.(); return }
      const need = Math.min(opts.minAcks, have)
      const [, acked] = await exec(onAnchor().wait(need, opts.timeoutMs))
      if (Number(acked) < need) {
        known = undefined
        throw new RedisUnavailable(`${String(acked)} of ${need} replica(s) confirmed the write within ${opts.timeoutMs} ms`)
      }
    },
  }
}

async function exec (p: ReturnType<RedisClient['pipeline']>): Promise<unknown[]> {
  const results = (await p.exec()) ?? []
  return results.map(([err, value]) => {
    if (err) throw err
    return value
  })
}


/** The slice of the failure log the connection reports to. */
interface FailureSink { report (what: string, err: unknown): void, recovered (what: string): void }

export interface OpenRedis {
  client: RedisClient
  /** Confirms acknowledged writes on replicas (REDIS_MIN_REPLICAS_ACKS). */
  durability: Durability
  /** BullMQ's connection and hash-tagged prefix. */
  bull: { connection: ConnectionOptions, prefix: string }
  check (): Promise<string>
  /** For the startup line: on or unreachable, and where. */
  describe (): string
  /** Closes the command connection and, after the queues (call it last), BullMQ's shared one. */
  close (): Promise<void>
}

/**
 * Opens the command connection and prepares BullMQ's. An unreachable Redis at
 * startup is reported, not fatal: readiness fails until it answers, and every
 * connection reconnects (to the new master after a Sentinel failover, to the
 * moved slots on a cluster) without a restart.
 */
export async function openRedis (s: RedisSettings, failures: FailureSink, opts: { anchorKey: string, onUnreplicated?: () => void }): Promise<OpenRedis> {
  const what = `Redis at ${redisTarget(s)} is unreachable`
  const client = createRedisClient(s)
  // Every reconnect attempt of every connection fails the same way during an
  // outage: one line per distinct failure per interval, with the real error.
  client.on('error', (err: unknown) => { failures.report(what, err) })
  client.on('ready', () => { failures.recovered(what) })
  let closing = false
  reopenWhenEnded(client, () => closing)
  await client.connect().catch((err: unknown) => { failures.report(what, err) })
  const bull = createBullConnection(s)
  const durability = createDurability(client, {
    anchorKey: opts.anchorKey,
    minAcks: s.minReplicaAcks,
    timeoutMs: s.replicaAckTimeoutMs,
    ...(opts.onUnreplicated ? { onUnreplicated: opts.onUnreplicated } : {}),
  })
  return {
    client,
    durability,
    bull: { connection: bull.connection, prefix: BULL_PREFIX },
    async check () {
      const detail = await checkRedis(client, s)
      if (!(client instanceof Cluster)) {
        const old = await legacyKeysPresent(client)
        if (old.length > 0) throw new Error(`keys of an earlier version are present (${old.join(', ')}): stop every replica and run npm run redis:rename-keys`)
      }
      return detail
    },
    describe: () => `${client.status === 'ready' ? 'on' : 'unreachable'} (${redisTarget(s)})`,
    async close () {
      closing = true
      await client.quit().catch(() => client.disconnect())
      await bull.close()
    },
  }
}

/** How long an ended connection waits before it is opened again. */
export const REOPEN_DELAY_MS = 500

/**
 * ioredis gives a connection up for good ("Connection is closed.") when its
 * connector fails rather than its socket: with Sentinel, a `+switch-master`
 * that arrives while the client is asking a sentinel where the master is ends
 * that attempt, and no retry follows. A connection this process did not close
 * is opened again, so that a failover never leaves a replica answering 503
 * until it is restarted.
 */
export function reopenWhenEnded (client: RedisClient, closing: () => boolean, delayMs = REOPEN_DELAY_MS): void {
  client.on('end', () => {
    if (closing()) return
    setTimeout(() => {
      if (closing() || client.status !== 'end') return
      // A failure ends it again, and this runs again.
      client.connect().catch(() => {})
    }, delayMs).unref()
  })
}
