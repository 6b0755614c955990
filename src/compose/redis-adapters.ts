import { createHash } from 'node:crypto'
import type { Queue } from 'bullmq'
import type { Config } from '../config/load-config.js'
import { createRedisRateBudget } from '../genesys/budget/redis.js'
import { createRedisTokenProvider } from '../genesys/token/redis.js'
import { sealKeyFor } from '../genesys/token/seal.js'
import { createRedisQueueLock } from '../groups/lock/redis.js'
import { createRedisBatchStore } from '../batches/store/redis.js'
import { createRedisDriftStore } from '../drift/store/redis.js'
import { createRedisImportStore } from '../imports/store/redis.js'
import { createRedisGroupSyncStore, createRedisMappingStore } from '../groups/store/redis.js'
import { createBullQueue } from '../jobs/bullmq-queue.js'
import { RetryLater, type BackoffPolicy } from '../jobs/queue.js'
import { provisioningKeys } from '../provisioning/store/keys.js'
import { createRedisChangeWindow, createRedisEmailReservations, createRedisIdempotencyStore, createRedisRequestStore, createRedisWorkerRegistry, createRedisDirectoryCache } from '../provisioning/store/redis.js'
import { openRedis, redisTarget } from '../redis/connection.js'
import { guardRedisUnavailable, isRedisConnectionError } from '../redis/unavailable.js'
import { createRedisDeliveryStore } from '../webhooks/store/redis.js'
import type { AdapterContext, Adapters } from './adapter-ports.js'

/** Every store on one Redis connection (standalone, Sentinel or cluster), BullMQ for the job queues. */
export async function redisAdapters (config: Readonly<Config>, settings: NonNullable<Config['redis']>, ctx: AdapterContext): Promise<Adapters> {
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
