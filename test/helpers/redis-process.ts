import { spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { Redis } from 'ioredis'
import { requireBinary } from './binaries.js'

export const redisBinary = requireBinary('redis-server', 'apt-get update && apt-get install -y redis-server')

const handedOut = new Set<number>()

/**
 * A loopback port nothing listens on. The kernel may offer the same ephemeral port again right after it is
 * closed, so a port this process already handed out is never returned twice (three sentinels need three ports).
 */
export async function freePort (): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const srv = createServer()
      srv.unref()
      srv.on('error', reject)
      srv.listen(0, '127.0.0.1', () => {
        const addr = srv.address()
        const port = typeof addr === 'object' && addr ? addr.port : 0
        srv.close(() => resolve(port))
      })
    })
    if (!handedOut.has(port)) {
      handedOut.add(port)
      return port
    }
  }
  throw new Error('no free loopback port that was not already handed out')
}

export function exited (child: ReturnType<typeof spawn>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => child.once('exit', () => resolve()))
}

/** Starts redis-server (or, with `--sentinel`, a sentinel) with these arguments and waits until it answers PING on `port`. */
export async function spawnRedisServer (args: string[], port: number): Promise<ReturnType<typeof spawn>> {
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
