import { createHash } from 'node:crypto'
import type { FastifyBaseLogger } from 'fastify'
import type { Queue } from 'bullmq'
import type { Config } from '../config/load-config.js'
import type { FetchToken, RateBudget, TokenEvent, TokenProvider } from '../genesys/ports.js'
import { createMemoryRateBudget, type RateBudgetEvent } from '../genesys/budget/memory.js'
import { createRedisRateBudget } from '../genesys/budget/redis.js'
import { createMemoryTokenProvider } from '../genesys/token/memory.js'
import { createRedisTokenProvider } from '../genesys/token/redis.js'
import { sealKeyFor } from '../genesys/token/seal.js'
import type { GroupSyncStore, MappingStore, QueueLock } from '../groups/ports.js'
import { createMemoryQueueLock } from '../groups/lock/memory.js'
import { createRedisQueueLock } from '../groups/lock/redis.js'
import { createMemoryGroupSyncStore, createMemoryMappingStore } from '../groups/store/memory.js'
import { createMemoryBatchStore } from '../batches/store/memory.js'
import { createRedisBatchStore } from '../batches/store/redis.js'
import type { BatchStore } from '../batches/ports.js'
import type { ImportStore } from '../imports/ports.js'
import type { DriftStore } from '../drift/ports.js'
import { createMemoryDriftStore } from '../drift/store/memory.js'
import { createRedisDriftStore } from '../drift/store/redis.js'
import { createMemoryImportStore } from '../imports/store/memory.js'
import { createRedisImportStore } from '../imports/store/redis.js'
import { createRedisGroupSyncStore, createRedisMappingStore } from '../groups/store/redis.js'
import { createBullQueue } from '../jobs/bullmq-queue.js'
import { createMemoryQueue } from '../jobs/memory-queue.js'
import { RetryLater, type BackoffPolicy, type JobQueue } from '../jobs/queue.js'
import type { FailureLog } from '../lib/failure-log.js'
import type { ReadinessCheck } from '../lib/readiness.js'
import type { Clock } from '../lib/timers.js'
import type { ChangeWindow, EmailReservations, IdempotencyStore, RequestStore, SharedDirectoryCache } from '../provisioning/ports.js'
import type { WorkerRegistry } from '../provisioning/registry.js'
import { provisioningKeys } from '../provisioning/store/keys.js'
import { createMemoryChangeWindow, createMemoryEmailReservations, createMemoryIdempotencyStore, createMemoryRequestStore, createMemoryWorkerRegistry } from '../provisioning/store/memory.js'
import { createRedisChangeWindow, createRedisEmailReservations, createRedisIdempotencyStore, createRedisRequestStore, createRedisWorkerRegistry, createRedisDirectoryCache } from '../provisioning/store/redis.js'
import { openRedis, redisTarget, type RedisClient } from '../redis/connection.js'
import { guardRedisUnavailable, isRedisConnectionError } from '../redis/unavailable.js'
import type { DeliveryStore } from '../webhooks/ports.js'
import { createMemoryDeliveryStore } from '../webhooks/store/memory.js'
import { createRedisDeliveryStore } from '../webhooks/store/redis.js'
import type { Closers } from './closers.js'

/** Every store, queue and shared Genesys state the features run on: Redis-backed, or in-memory twins. */
export interface Adapters {
  stores: {
    requests: RequestStore
    reservations: EmailReservations
    externalIds: EmailReservations
    registry: WorkerRegistry
    /** Terminations and moves per client over the last hour (the mass-change brake). */
    changes: ChangeWindow
    idempotency: IdempotencyStore
    syncs: GroupSyncStore
    mappings: MappingStore
    batches: BatchStore
    imports: ImportStore
    drift: DriftStore
    deliveries: DeliveryStore
    /** Queues carry no version: their read-modify-writes are serialised across the fleet. */
    queueLock: QueueLock
  }
  /** One OAuth client's token cache and rate budget (shared by the fleet with Redis). */
  genesysState (ref: { clientId: string, clientSecret: string }, logger: FastifyBaseLogger, listen: { tokenEvent: (e: TokenEvent) => void, budgetEvent: (e: RateBudgetEvent) => void }): { tokenProvider: (fetchToken: FetchToken) => TokenProvider, budget: RateBudget }
  /** With Redis: the directory cache one OAuth client's replicas share (without, each process's own cache is the only one). */
  directoryCache?: (genesysClientId: string) => SharedDirectoryCache
  /** A job queue (BullMQ with Redis, in-process without); the caller registers its close, as the order matters. */
  jobQueue<T> (name: string, opts: { maxAttempts: number, backoff?: BackoffPolicy }): JobQueue<T>
  /** BullMQ queues, for the dashboard. */
  dashboardQueues: Queue[]
  redis?: RedisClient
  describe (): string
}

export interface AdapterContext {
  logger: FastifyBaseLogger
  failures: FailureLog
  clock: Clock
  closers: Closers
  readiness: ReadinessCheck[]
}

/** Decides, once, between Redis (REDIS_URL, Sentinel or cluster) and the embedded in-memory twins. */
export async function createAdapters (config: Readonly<Config>, ctx: AdapterContext): Promise<Adapters> {
  return config.redis ? await redisAdapters(config, config.redis, ctx) : memoryAdapters(config, ctx.clock)
}

function memoryAdapters (config: Readonly<Config>, clock: Clock): Adapters {
  const deliveries = createMemoryDeliveryStore()
  const registry = createMemoryWorkerRegistry()
  return {
    stores: {
      requests: createMemoryRequestStore({ outbox: deliveries, registry, clock }),
      reservations: createMemoryEmailReservations(clock),
      externalIds: createMemoryEmailReservations(clock),
      registry,
      changes: createMemoryChangeWindow(),
      idempotency: createMemoryIdempotencyStore(clock),
      syncs: createMemoryGroupSyncStore({ outbox: deliveries }),
      batches: createMemoryBatchStore({ outbox: deliveries, now: clock.now }),
      imports: createMemoryImportStore({ now: clock.now }),
      drift: createMemoryDriftStore(),
      mappings: createMemoryMappingStore(),
      deliveries,
      queueLock: createMemoryQueueLock(),
    },
    genesysState: (_ref, _logger, listen) => ({
      tokenProvider: (fetchToken) => createMemoryTokenProvider({ fetchToken, onEvent: listen.tokenEvent }),
      budget: createMemoryRateBudget({ perMinute: config.genesys.rateLimitPerMinute, onEvent: listen.budgetEvent }),
    }),
    jobQueue: (_name, opts) => createMemoryQueue(opts),
    dashboardQueues: [],
    describe: () => 'off (embedded, not durable)',
  }
}

async function redisAdapters (config: Readonly<Config>, settings: NonNullable<Config['redis']>, ctx: AdapterContext): Promise<Adapters> {
  const redisLog = ctx.logger.child({ module: 'redis' })
  const redisWhat = `Redis at ${redisTarget(settings)} is unreachable`
  let warned = false
  const shared = await openRedis(settings, ctx.failures, {
    anchorKey: provisioningKeys.pending(),
    // Said once: with no replica connected, acknowledged writes rest on the master alone.
    onUnreplicated: () => {
      if (!warned) redisLog.warn(`REDIS_MIN_REPLICAS_ACKS is ${settings.minReplicaAcks} but the master has no replica connected: acknowledged writes are not confirmed on a replica (a failover now could lose the last ones)`)
      warned = true
    },
  })
  ctx.closers.push(() => shared.close())
  ctx.readiness.push({ name: 'redis', check: () => shared.check() })
  const redis = shared.client
  const durability = shared.durability
  const dashboardQueues: Queue[] = []
  // An unreachable Redis answers 503 with Retry-After, not 500.
  return {
    stores: {
      requests: guardRedisUnavailable(createRedisRequestStore(redis, { durability })),
      reservations: guardRedisUnavailable(createRedisEmailReservations(redis)),
      externalIds: guardRedisUnavailable(createRedisEmailReservations(redis, 'externalId')),
      registry: guardRedisUnavailable(createRedisWorkerRegistry(redis)),
      changes: guardRedisUnavailable(createRedisChangeWindow(redis)),
      idempotency: guardRedisUnavailable(createRedisIdempotencyStore(redis, durability)),
      syncs: guardRedisUnavailable(createRedisGroupSyncStore(redis, durability)),
      batches: guardRedisUnavailable(createRedisBatchStore(redis, durability)),
      imports: guardRedisUnavailable(createRedisImportStore(redis, durability)),
      drift: guardRedisUnavailable(createRedisDriftStore(redis)),
      mappings: guardRedisUnavailable(createRedisMappingStore(redis)),
      deliveries: guardRedisUnavailable(createRedisDeliveryStore(redis, durability)),
      queueLock: createRedisQueueLock(redis),
    },
    genesysState: (ref, logger, listen) => ({
      tokenProvider: (fetchToken) => createRedisTokenProvider({ redis, clientId: ref.clientId, sealKey: sealKeyFor(ref.clientId, ref.clientSecret), fetchToken, logger, onEvent: listen.tokenEvent }),
      budget: createRedisRateBudget({ redis, clientId: ref.clientId, perMinute: config.genesys.rateLimitPerMinute, logger, onEvent: listen.budgetEvent }),
    }),
    // Named by a digest of the Genesys client id: two orgs sharing one Redis never share names.
    directoryCache: (genesysClientId) => createRedisDirectoryCache(redis, createHash('sha256').update(genesysClientId).digest('hex').slice(0, 24), ctx.clock),
    jobQueue: <T>(name: string, opts: { maxAttempts: number, backoff?: BackoffPolicy }) => {
      const bull = createBullQueue<T>({
        name,
        connection: shared.bull.connection,
        prefix: shared.bull.prefix,
        ...opts,
        lockDurationMs: config.provisioning.jobLockMs,
        // Planned retries are logged by the handlers themselves.
        onError: (err, jobId) => {
          if (err instanceof RetryLater) return
          if (isRedisConnectionError(err)) ctx.failures.report(redisWhat, err)
          else ctx.failures.report(`job error in queue ${name}`, err, { jobId, queue: name })
        },
      })
      dashboardQueues.push(bull.bullQueue)
      return bull
    },
    dashboardQueues,
    redis,
    describe: () => shared.describe(),
  }
}
