import { randomBytes } from 'node:crypto'
import type { spawn } from 'node:child_process'
import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { promisify } from 'node:util'
import { Redis } from 'ioredis'
import type { RedisSettings } from '../../src/config/redis.js'
import { requireBinary } from './binaries.js'
import { exited, freePort, spawnRedisServer } from './redis-process.js'

const run = promisify(execFile)
export const redisCli = requireBinary('redis-cli', 'apt-get update && apt-get install -y redis-tools')

type Child = ReturnType<typeof spawn>

/** A real Redis topology on loopback: how the service is told about it, and how to break it. */
export interface TestTopology {
  kind: 'standalone' | 'sentinel' | 'cluster'
  /** The service's environment for it. */
  env: Record<string, string>
  settings: RedisSettings
  stop (): Promise<void>
}

export interface TestSentinel extends TestTopology {
  kind: 'sentinel'
  masterName: string
  /** The port of the node the sentinels currently call master. */
  masterPort (): Promise<number>
  /** SIGKILL the current master; resolves with its port. */
  killMaster (): Promise<number>
  /** SIGSTOP / SIGCONT the data node that is not the master: it stops confirming writes. */
  pauseReplica (): Promise<void>
  resumeReplica (): void
  /** Resolves once the sentinels name a master other than `oldPort` and it answers as a master. */
  waitForNewMaster (oldPort: number, timeoutMs?: number): Promise<number>
}

const settingsFor = (topology: RedisSettings['topology']): RedisSettings => ({ topology, tls: false, minReplicaAcks: 1, replicaAckTimeoutMs: 1000 })

function killAll (children: Child[]): Promise<void> {
  return Promise.all(children.map(async (c) => {
    if (c.exitCode === null && c.signalCode === null) {
      c.kill('SIGCONT')
      c.kill('SIGKILL')
      await exited(c)
    }
  })).then(() => {})
}

const nodeArgs = (port: number, dir: string) => [
  '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '',
  '--appendonly', 'yes', '--appendfsync', 'always', '--maxmemory-policy', 'noeviction',
]

async function until (what: string, timeoutMs: number, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await probe().catch(() => false)) return
    await sleep(50)
  }
  throw new Error(`${what}: not within ${timeoutMs} ms`)
}

async function withNode<T> (port: number, fn: (r: Redis) => Promise<T>): Promise<T> {
  const r = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null })
  r.on('error', () => {})
  try {
    await r.connect()
    return await fn(r)
  } finally {
    r.disconnect()
  }
}

/**
 * A Redis Cluster of three masters (no replicas), built with
 * `redis-cli --cluster create`, every node on a free loopback port.
 */
export async function startRedisCluster (): Promise<TestTopology & { ports: number[] }> {
  const root = await mkdtemp(join(tmpdir(), 'prov-cluster-'))
  const children: Child[] = []
  try {
    const ports = [await freePort(), await freePort(), await freePort()]
    for (const port of ports) {
      const dir = join(root, String(port))
      await mkdir(dir)
      children.push(await spawnRedisServer([...nodeArgs(port, dir), '--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '2000'], port))
    }
    await run(redisCli.path ?? 'redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'])
    for (const port of ports) {
      await until(`cluster_state ok on ${port}`, 10_000, () => withNode(port, async (r) => /cluster_state:ok/.test(String(await r.cluster('INFO')))))
    }
    const nodes = ports.map((port) => ({ host: '127.0.0.1', port }))
    return {
      kind: 'cluster',
      ports,
      env: { REDIS_CLUSTER_NODES: ports.map((p) => `127.0.0.1:${p}`).join(',') },
      settings: settingsFor({ kind: 'cluster', nodes }),
      async stop () {
        await killAll(children)
        await rm(root, { recursive: true, force: true })
      },
    }
  } catch (err) {
    await killAll(children)
    await rm(root, { recursive: true, force: true })
    throw err
  }
}

/**
 * One master, one replica and three sentinels (quorum 2, a master is down after
 * 1 s without answers), every process on a free loopback port.
 */
export async function startRedisSentinel (): Promise<TestSentinel> {
  const root = await mkdtemp(join(tmpdir(), 'prov-sentinel-'))
  const children: Child[] = []
  const byPort = new Map<number, Child>()
  const paused: Child[] = []
  const masterName = 'prov'
  try {
    const [masterPort, replicaPort] = [await freePort(), await freePort()]
    for (const [port, extra] of [[masterPort, []], [replicaPort, ['--replicaof', '127.0.0.1', String(masterPort)]]] as const) {
      const dir = join(root, String(port))
      await mkdir(dir)
      const child = await spawnRedisServer([...nodeArgs(port, dir), ...extra], port)
      children.push(child)
      byPort.set(port, child)
    }
    await until('the replica is in sync', 10_000, () => withNode(masterPort, async (r) => /slave0:.*state=online/.test(await r.info('replication'))))
    const sentinelPorts = [await freePort(), await freePort(), await freePort()]
    // Each sentinel is told its peers and the replica up front (as a sentinel
    // rewrites its own file once it has found them), instead of discovering
    // them from hello messages sent every 2 s.
    const ids = sentinelPorts.map(() => randomBytes(20).toString('hex'))
    for (const [i, port] of sentinelPorts.entries()) {
      const dir = join(root, `sentinel-${port}`)
      await mkdir(dir)
      const conf = join(dir, 'sentinel.conf')
      await writeFile(conf, [
        `port ${port}`, 'bind 127.0.0.1', `dir ${dir}`,
        `sentinel myid ${ids[i] ?? ''}`,
        `sentinel monitor ${masterName} 127.0.0.1 ${masterPort} 2`,
        `sentinel down-after-milliseconds ${masterName} 1000`,
        `sentinel failover-timeout ${masterName} 10000`,
        `sentinel parallel-syncs ${masterName} 1`,
        `sentinel known-replica ${masterName} 127.0.0.1 ${replicaPort}`,
        ...sentinelPorts.flatMap((peer, j) => (j === i ? [] : [`sentinel known-sentinel ${masterName} 127.0.0.1 ${peer} ${ids[j] ?? ''}`])), '',
      ].join('\n'))
      children.push(await spawnRedisServer([conf, '--sentinel'], port))
    }
    // Told is not seen: each must be connected to its peers and the replica.
    const connected = (entries: unknown[]) => entries.every((e) => {
      const fields = e as string[]
      return !/disconnected|s_down/.test(fields[fields.indexOf('flags') + 1] ?? '')
    })
    for (const port of sentinelPorts) {
      await until(`sentinel ${port} sees its peers and the replica`, 15_000, () => withNode(port, async (r) => {
        const sentinels = await r.call('SENTINEL', 'SENTINELS', masterName) as unknown[]
        const replicas = await r.call('SENTINEL', 'REPLICAS', masterName) as unknown[]
        return sentinels.length === 2 && replicas.length === 1 && connected(sentinels) && connected(replicas)
      }))
    }
    const masterPortNow = () => withNode(sentinelPorts[0] ?? 0, async (r) => Number(((await r.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', masterName)) as string[])[1]))
    return {
      kind: 'sentinel',
      masterName,
      env: { REDIS_SENTINELS: sentinelPorts.map((p) => `127.0.0.1:${p}`).join(','), REDIS_SENTINEL_NAME: masterName },
      settings: settingsFor({ kind: 'sentinel', sentinels: sentinelPorts.map((port) => ({ host: '127.0.0.1', port })), masterName }),
      masterPort: masterPortNow,
      async killMaster () {
        const port = await masterPortNow()
        const child = byPort.get(port)
        if (!child) throw new Error(`no process on ${port}`)
        child.kill('SIGKILL')
        await exited(child)
        return port
      },
      async pauseReplica () {
        const master = await masterPortNow()
        for (const [port, child] of byPort) if (port !== master) { paused.push(child); child.kill('SIGSTOP') }
      },
      resumeReplica () {
        for (const child of paused.splice(0)) child.kill('SIGCONT')
      },
      async waitForNewMaster (oldPort, timeoutMs = 30_000) {
        let port = oldPort
        await until('a new master', timeoutMs, async () => {
          port = await masterPortNow()
          return port !== oldPort && await withNode(port, async (r) => /role:master/.test(await r.info('replication')))
        })
        return port
      },
      async stop () {
        await killAll(children)
        await rm(root, { recursive: true, force: true })
      },
    }
  } catch (err) {
    await killAll(children)
    await rm(root, { recursive: true, force: true })
    throw err
  }
}
