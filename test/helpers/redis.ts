import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { Redis } from 'ioredis'
import type { Test } from 'tap'
import { requireBinary } from './binaries.js'

export const redisBinary = requireBinary('redis-server', 'apt-get update && apt-get install -y redis-server')

export async function freePort (): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.unref()
    srv.on('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address()
      const port = typeof addr === 'object' && addr ? addr.port : 0
      srv.close(() => resolve(port))
    })
  })
}

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

function exited (child: ReturnType<typeof spawn>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => child.once('exit', () => resolve()))
}

async function launch (port: number, dir: string, opts: StartRedisOptions): Promise<ReturnType<typeof spawn>> {
  const args = [
    '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '',
    '--appendonly', opts.appendonly ? 'yes' : 'no', '--appendfsync', 'always',
    '--maxmemory-policy', opts.maxmemoryPolicy ?? 'noeviction',
  ]
  const child = spawn(redisBinary.path ?? 'redis-server', args, { stdio: 'ignore' })
  const deadline = Date.now() + 5000
  while (Date.now() < deadline) {
    const probe = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null })
    probe.on('error', () => {}) // refused until the server is up; the loop retries
    try {
      await probe.connect()
      await probe.ping()
      probe.disconnect()
      return child
    } catch {
      probe.disconnect()
      await sleep(10)
    }
  }
  child.kill('SIGKILL')
  throw new Error(`redis-server did not start on port ${port}`)
}

/**
 * Runs a store contract against a private redis-server: each `make` gets a
 * fresh, flushed connection; connections and the server go at teardown.
 * `extra` adds Redis-only tests on the same server (`connect` gives a fresh,
 * flushed connection).
 */
export function redisTwin<S> (t: Test, contract: (t: Test, name: string, make: () => Promise<S>) => void, build: (redis: Redis) => S, extra?: (t: Test, connect: () => Promise<Redis>) => void): void {
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
}
