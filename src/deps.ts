import type { FastifyBaseLogger } from 'fastify'
import { Redis } from 'ioredis'
import { createClientRegistry, createDemoClient, loadClientsFile, type ApiClient, type ClientRegistry } from './config/clients.js'
import type { Config } from './config/load-config.js'
import type { ReadinessCheck } from './http/routes/health.js'

export interface Deps {
  clients: ClientRegistry
  readiness: ReadinessCheck[]
  /** Set only in embedded demo mode without CLIENTS_FILE: shown once at startup. */
  demoApiKey?: string
  close (): Promise<void>
}

/**
 * The one composition root: builds Redis connections, adapters and services from
 * the configuration and hands them out; `close()` releases them in reverse order.
 */
export async function createDeps (config: Readonly<Config>, logger: FastifyBaseLogger): Promise<Deps> {
  const closers: Array<() => Promise<unknown>> = []
  const readiness: ReadinessCheck[] = []

  let clients: ApiClient[]
  let demoApiKey: string | undefined
  if (config.clientsFile) {
    clients = loadClientsFile(config.clientsFile)
  } else if (config.genesys.mode === 'simulator') {
    const demo = createDemoClient()
    clients = [demo.client]
    demoApiKey = demo.apiKey
  } else {
    throw new Error('CLIENTS_FILE is required when talking to a real Genesys Cloud org (GENESYS_CLIENT_ID is set).')
  }

  if (config.redisUrl) {
    const redis = new Redis(config.redisUrl, {
      // Health and request paths must fail fast rather than queue behind an outage.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout: 1000,
      connectTimeout: 2000,
      lazyConnect: true,
    })
    redis.on('error', (err) => logger.warn({ err: { message: err.message } }, 'redis connection error'))
    await redis.connect().catch((err: Error) => logger.warn({ err: { message: err.message } }, 'redis not reachable at startup'))
    closers.push(async () => redis.quit().catch(() => redis.disconnect()))
    readiness.push({ name: 'redis', check: () => checkRedis(redis) })
  }

  return {
    clients: createClientRegistry(clients),
    readiness,
    demoApiKey,
    async close () {
      for (const close of closers.reverse()) {
        await close().catch((err: unknown) => logger.warn({ err }, 'error while closing a dependency'))
      }
    },
  }
}

/** Redis must answer and must never evict keys (jobs and idempotency records live there). */
export async function checkRedis (redis: Redis): Promise<string> {
  const info = await redis.info()
  const field = (name: string) => new RegExp(`^${name}:(.*)$`, 'm').exec(info)?.[1]?.trim()
  const policy = field('maxmemory_policy')
  if (policy !== 'noeviction') {
    throw new Error(`maxmemory-policy is ${policy ?? 'unknown'}; it must be noeviction`)
  }
  const aof = field('aof_enabled') === '1'
  return `noeviction, appendonly ${aof ? 'yes' : 'no (acknowledged jobs may be lost on a crash)'}`
}
