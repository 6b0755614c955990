import type { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Cluster, Redis } from 'ioredis'
import type { Test } from 'tap'
import type { RedisClient } from '../../src/redis/connection.js'
import { exited, freePort, redisBinary, spawnRedisServer } from './redis-process.js'
import { startRedisCluster } from './redis-topologies.js'

export { freePort, redisBinary } from './redis-process.js'

export interface TestRedis {
  url: string
  port: number
  pid: number
  dir: string
  /** SIGSTOP: the server hangs (connections stay open, nothing answers). */
  pause (): void
  resume (): void
  /** SIGKILL, no shutdown save. */
  kill (): Promise<void>
  /** Start again on the same port and directory (AOF replayed when enabled). */
  restart (): Promise<void>
  stop (): Promise<void>
}

export interface StartRedisOptions {
  appendonly?: boolean
  /** Defaults to noeviction, as the service requires. */
  maxmemoryPolicy?: string
}

/** A private redis-server on a free loopback port in a temp dir, stopped by PID. */
export async function startRedis (opts: StartRedisOptions = {}): Promise<TestRedis> {
  const dir = await mkdtemp(join(tmpdir(), 'prov-redis-'))
  const port = await freePort()
  let child = await launch(port, dir, opts)
  const handle: TestRedis = {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    get pid () { return child.pid ?? -1 },
    pause () { child.kill('SIGSTOP') },
    resume () { child.kill('SIGCONT') },
    async kill () {
      child.kill('SIGCONT')
      child.kill('SIGKILL')
      await exited(child)
    },
    async restart () {
      child = await launch(port, dir, opts)
    },
    async stop () {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGCONT')
        child.kill('SIGKILL')
        await exited(child)
      }
      await rm(dir, { recursive: true, force: true })
    },
  }
  return handle
}

async function launch (port: number, dir: string, opts: StartRedisOptions): Promise<ReturnType<typeof spawn>> {
  const args = [
    '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '',
    '--appendonly', opts.appendonly ? 'yes' : 'no', '--appendfsync', 'always',
    '--maxmemory-policy', opts.maxmemoryPolicy ?? 'noeviction',
  ]
  return spawnRedisServer(args, port)
}

/**
 * Runs a store contract against a private redis-server: each `make` gets a
 * fresh, flushed connection; connections and the server go at teardown.
 * `extra` adds Redis-only tests on the same server (`connect` gives a fresh,
 * flushed connection).
 */
export function redisTwin<S> (t: Test, contract: (t: Test, name: string, make: () => Promise<S>) => void, build: (redis: RedisClient) => S, extra?: (t: Test, connect: () => Promise<Redis>) => void): void {
  t.test('redis twin', { skip: redisBinary.skip }, async (t) => {
    const server = await startRedis()
    const clients: Redis[] = []
    t.teardown(async () => {
      for (const c of clients) c.disconnect()
      await server.stop()
    })
    const connect = async (): Promise<Redis> => {
      const redis = new Redis(server.url, { maxRetriesPerRequest: 1 })
      clients.push(redis)
      await redis.flushall()
      return redis
    }
    contract(t, 'redis', async () => build(await connect()))
    extra?.(t, connect)
  })
  // The same contract on a three-master cluster: a script or transaction whose
  // keys do not share a slot fails here (CROSSSLOT), not in production.
  t.test('redis cluster twin', { skip: redisBinary.skip }, async (t) => {
    const cluster = await startRedisCluster()
    const clients: Cluster[] = []
    t.teardown(async () => {
      for (const c of clients) c.disconnect()
      await cluster.stop()
    })
    contract(t, 'redis cluster', async () => {
      const redis = new Cluster(cluster.settings.topology.kind === 'cluster' ? cluster.settings.topology.nodes : [], { redisOptions: { maxRetriesPerRequest: 1 } })
      clients.push(redis)
      if (redis.status !== 'ready') await new Promise((resolve) => redis.once('ready', resolve))
      await Promise.all(redis.nodes('master').map((n) => n.flushall()))
      return build(redis)
    })
  })
}
