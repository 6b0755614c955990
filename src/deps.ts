import { randomBytes } from 'node:crypto'
import type { FastifyBaseLogger } from 'fastify'
import type { Queue } from 'bullmq'
import type { AppDeps } from './http/app.js'
import { createClientRegistry, createDemoClient, loadClientsFile, type ApiClient } from './config/clients.js'
import type { Config } from './config/load-config.js'
import { createGenesysConnection, type GenesysConnection } from './genesys/connection.js'
import type { TokenProvider, FetchToken } from './genesys/ports.js'
import { createMemoryRateBudget } from './genesys/budget/memory.js'
import { createMemoryTokenProvider } from './genesys/token/memory.js'
import type { ReadinessCheck } from './lib/readiness.js'
import { createBullQueue } from './jobs/bullmq-queue.js'
import { createMemoryQueue } from './jobs/memory-queue.js'
import { createMetrics } from './metrics.js'
import { RetryLater, type BackoffPolicy, type JobQueue } from './jobs/queue.js'
import { parsePermission, type PermissionPattern } from './provisioning/checks/permissions.js'
import { staticChecks } from './provisioning/checks/static-checks.js'
import { createDispatcher } from './provisioning/dispatcher.js'
import { dryRun } from './provisioning/dry-run.js'
import { createMappingService } from './groups/mappings.js'
import type { GroupSyncJob, GroupSyncStore, MappingStore, QueueLock } from './groups/ports.js'
import { createGroupSyncService, createGroupSyncWorker } from './groups/sync.js'
import { periodic } from './lib/periodic.js'
import { planOAuthClients, type OAuthClientRef } from './genesys/oauth-clients.js'
import { createTenants } from './provisioning/tenants.js'
import { createBudgetUse } from './genesys/budget/use.js'
import { createFailureLog } from './lib/failure-log.js'
import { guardRedisUnavailable, isRedisConnectionError } from './redis/unavailable.js'
import { createMemoryGroupSyncStore, createMemoryMappingStore } from './groups/store/memory.js'
import { createRedisGroupSyncStore, createRedisMappingStore } from './groups/store/redis.js'
import { createMemoryQueueLock } from './groups/lock/memory.js'
import { createRedisQueueLock } from './groups/lock/redis.js'
import type { EmailReservations, IdempotencyStore, RequestStore } from './provisioning/ports.js'
import type { Clock } from './lib/timers.js'
import { createProvisioningService, jobIdFor } from './provisioning/service.js'
import { createProvisioningWorker, type ProvisioningJob } from './provisioning/worker.js'
import { createSimulator } from './simulator/index.js'
import { createMemoryEmailReservations, createMemoryIdempotencyStore, createMemoryRequestStore, createMemoryWorkerRegistry } from './provisioning/store/memory.js'
import type { WorkerRegistry } from './provisioning/registry.js'
import { EMAIL_RESERVATION_SECONDS, provisioningKeys } from './provisioning/store/keys.js'
import { createRedisEmailReservations, createRedisIdempotencyStore, createRedisRequestStore, createRedisWorkerRegistry } from './provisioning/store/redis.js'
import { createRedisRateBudget } from './genesys/budget/redis.js'
import { createRedisTokenProvider } from './genesys/token/redis.js'
import { NO_DURABILITY, openRedis, redisTarget, type Durability, type OpenRedis, type RedisClient } from './redis/connection.js'
import { sealKeyFor } from './genesys/token/seal.js'
import { createMemoryDeliveryStore } from './webhooks/store/memory.js'
import { createRedisDeliveryStore } from './webhooks/store/redis.js'
import { createDeliveryHandler, createRelay } from './webhooks/delivery.js'
import { deliveryFor } from './provisioning/events.js'
import { deliveryForGroupSync } from './groups/events.js'
import { deliveryJobId, type DeliveryJob, type DeliveryQueue, type DeliveryStore } from './webhooks/ports.js'
import { createSender } from './webhooks/sender.js'
import { startReceiver } from './dev/webhook-receiver.js'
import { createWebhookService, summarize } from './webhooks/service.js'
import { checkDestination, parseAllowedNetworks, WebhookDestinationRefused } from './webhooks/ssrf.js'

export interface Deps extends AppDeps {
  /** Set only in embedded demo mode without CLIENTS_FILE: shown once at startup. */
  demoApiKey?: string
  /** The built-in simulator's URL in simulator mode. */
  simulatorUrl?: string
  /** The default OAuth client's connection (GENESYS_CLIENT_ID). */
  genesys: GenesysConnection
  /** Environment variables the clients file names (tenants' Genesys OAuth clients). */
  variablesRead: string[]
  /** For the startup line: the Genesys API origin and what Redis is doing right now. */
  describe (): { genesysOrigin: string, redis: string }
  close (): Promise<void>
}

/** How often the Genesys OAuth client credentials are checked again (and the Retry-After while refused). */
const CREDENTIALS_CHECK_INTERVAL_MS = 30_000

/** How often an OAuth client lacking permissions (or whose permissions could not be read) is checked again. */
const REACH_RETRY_MS = 60_000

/** A recurring failure (Redis refusing every reconnect) is logged once per this interval. */
const FAILURE_LOG_INTERVAL_MS = 30_000

/** Group syncs run at once per worker process (each paces itself through the rate budget). */
const GROUP_SYNC_CONCURRENCY = 4

/** Attempts a webhook job may spend on its own errors (a Redis blip) beyond the schedule. */
const WEBHOOK_SPARE_ATTEMPTS = 20

export interface DepsOptions {
  /** Where the clients file's `genesys.clientIdEnv` / `clientSecretEnv` are read: the entry point passes the process environment. */
  env?: Readonly<Record<string, string | undefined>>
  /**
   * Test-only faults, never set from the environment. `skipDivisionCheck`
   * turns off this service's own division check, so that only Genesys'
   * division-scoped permissions stand between a tenant and another division.
   */
  faults?: { skipDivisionCheck?: boolean }
}

/**
 * The one composition root: builds Redis connections, one Genesys connection
 * per OAuth client, stores, queue, services and (for ROLE=worker|all) the job
 * consumer, and hands them out; `close()` releases them in reverse order.
 */
export async function createDeps (config: Readonly<Config>, logger: FastifyBaseLogger, options: DepsOptions = {}): Promise<Deps> {
  const closers: Array<() => Promise<unknown>> = []
  const readiness: ReadinessCheck[] = []
  const clock: Clock = { now: Date.now }
  const metrics = createMetrics()
  const failures = createFailureLog(logger, { intervalMs: FAILURE_LOG_INTERVAL_MS })

  async function close (): Promise<void> {
    for (const c of closers.reverse()) {
      await c().catch((err: unknown) => logger.warn({ err }, 'error while closing a dependency'))
    }
  }

  try {
    let clients: ApiClient[]
    let demoApiKey: string | undefined
    // The demo receiver listens on loopback, which the webhook SSRF guard otherwise refuses.
    const demoAllowed: string[] = []
    if (config.clientsFile) {
      clients = loadClientsFile(config.clientsFile)
      if (clients.length === 0) {
        logger.warn({ clientsFile: config.clientsFile }, `CLIENTS_FILE ${config.clientsFile} lists no clients: every API call will be answered 401; add one with npm run client:add -- --file ${config.clientsFile}`)
      }
    } else if (config.genesys.mode === 'simulator') {
      const demo = createDemoClient()
      clients = [demo.client]
      demoApiKey = demo.apiKey
      if (config.demoWebhookReceiver && config.role !== 'api') {
        const receiver = await startDemoReceiver(logger)
        closers.push(() => receiver.close())
        demo.client.webhook = { url: receiver.url, secrets: [receiver.secret] }
        demoAllowed.push('127.0.0.1/32')
      }
    } else {
      throw new Error('CLIENTS_FILE is required when talking to a real Genesys Cloud org (GENESYS_CLIENT_ID is set).')
    }

    const registry = createClientRegistry(clients)
    // A webhook URL the SSRF rules refuse would dead-letter every event: say so now.
    if (config.role !== 'api') void warnRefusedWebhooks(clients, parseAllowedNetworks(config.webhookAllowedNetworks), logger)

    let redis: RedisClient | undefined
    let durability: Durability = NO_DURABILITY
    let shared: OpenRedis | undefined
    const redisWhat = config.redis ? `Redis at ${redisTarget(config.redis)} is unreachable` : ''
    if (config.redis) {
      const redisLog = logger.child({ module: 'redis' })
      let warned = false
      shared = await openRedis(config.redis, failures, {
        anchorKey: provisioningKeys.pending(),
        // Said once: with no replica connected, acknowledged writes rest on the master alone.
        onUnreplicated: () => {
          if (!warned) redisLog.warn(`REDIS_MIN_REPLICAS_ACKS is ${config.redis?.minReplicaAcks ?? 0} but the master has no replica connected: acknowledged writes are not confirmed on a replica (a failover now could lose the last ones)`)
          warned = true
        },
      })
      const opened = shared
      closers.push(() => opened.close())
      readiness.push({ name: 'redis', check: () => opened.check() })
      redis = opened.client
      durability = opened.durability
    }

    // Genesys: the real org, or the built-in simulator over real HTTP.
    let genesysTarget: { apiUrl: string, loginUrl: string, clientId: string, clientSecret: string }
    let simulatorUrl: string | undefined
    if (config.genesys.mode === 'simulator') {
      const sim = await createSimulator({ rateLimitPerMinute: config.genesys.rateLimitPerMinute })
      closers.push(() => sim.close())
      simulatorUrl = sim.url
      genesysTarget = { apiUrl: sim.url, loginUrl: sim.url, ...sim.credentials }
    } else {
      genesysTarget = {
        apiUrl: config.genesys.apiUrl ?? '',
        loginUrl: config.genesys.loginUrl ?? '',
        clientId: config.genesys.clientId ?? '',
        clientSecret: config.genesys.clientSecret ?? '',
      }
    }

    // One connection (token cache, rate budget) per Genesys OAuth client; each
    // API client's work, reads included, goes out with its own OAuth client.
    const genesysLog = logger.child({ module: 'genesys' })
    const plan = planOAuthClients(clients, options.env ?? {}, genesysTarget)
    const budgetUse = createBudgetUse(plan.refs.map((r) => r.name))
    const connect = (ref: OAuthClientRef): GenesysConnection => {
      const listen = metrics.oauthClient(ref.name)
      const log = genesysLog.child({ oauthClient: ref.name })
      return createGenesysConnection({
        apiUrl: genesysTarget.apiUrl,
        loginUrl: genesysTarget.loginUrl,
        clientId: ref.clientId,
        clientSecret: ref.clientSecret,
        credentialsVariables: ref.variables,
        timeouts: config.genesys.timeouts,
        maxConnections: config.genesys.maxConnections,
        logger: log,
        tokenProvider: (fetchToken: FetchToken): TokenProvider => redis
          ? createRedisTokenProvider({ redis, clientId: ref.clientId, sealKey: sealKeyFor(ref.clientId, ref.clientSecret), fetchToken, logger: log, onEvent: listen.tokenEvent })
          : createMemoryTokenProvider({ fetchToken, onEvent: listen.tokenEvent }),
        budget: redis
          ? createRedisRateBudget({ redis, clientId: ref.clientId, perMinute: config.genesys.rateLimitPerMinute, logger: log, onEvent: listen.budgetEvent })
          : createMemoryRateBudget({ perMinute: config.genesys.rateLimitPerMinute, onEvent: listen.budgetEvent }),
        onEvent: listen.genesysEvent,
        onCall: (operation, status, seconds) => {
          listen.genesysCall(operation, status, seconds)
          budgetUse.record(ref.name)
        },
        onBudgetWait: listen.budgetWait,
      })
    }
    const mappingStore: MappingStore = redis ? guardRedisUnavailable(createRedisMappingStore(redis)) : createMemoryMappingStore()
    const tenants = await createTenants({
      plan,
      clients,
      connect,
      mappings: mappingStore,
      clock,
      cacheTtlMs: config.directoryCacheTtlMs,
      logger,
      loginOrigin: new URL(genesysTarget.loginUrl).origin,
      credentialsIntervalMs: CREDENTIALS_CHECK_INTERVAL_MS,
      reachRetryMs: REACH_RETRY_MS,
    })
    closers.push(() => tenants.close())
    // Wrong credentials and missing permissions are found at startup, not when the first hire fails on them.
    tenants.start()
    readiness.push(...tenants.readiness())
    const genesys = tenants.fallback.connection

    let deliveries: DeliveryStore
    let stores: { requests: RequestStore, reservations: EmailReservations, externalIds: EmailReservations, registry: WorkerRegistry, idempotency: IdempotencyStore, syncs: GroupSyncStore }
    if (redis) {
      // An unreachable Redis answers 503 with Retry-After, not 500.
      deliveries = guardRedisUnavailable(createRedisDeliveryStore(redis, durability))
      stores = {
        requests: guardRedisUnavailable(createRedisRequestStore(redis, { durability })),
        reservations: guardRedisUnavailable(createRedisEmailReservations(redis)),
        externalIds: guardRedisUnavailable(createRedisEmailReservations(redis, 'externalId')),
        registry: guardRedisUnavailable(createRedisWorkerRegistry(redis)),
        idempotency: guardRedisUnavailable(createRedisIdempotencyStore(redis, durability)),
        syncs: guardRedisUnavailable(createRedisGroupSyncStore(redis, durability)),
      }
    } else {
      const memoryDeliveries = createMemoryDeliveryStore()
      deliveries = memoryDeliveries
      const registry = createMemoryWorkerRegistry()
      stores = {
        requests: createMemoryRequestStore({ outbox: memoryDeliveries, registry }),
        reservations: createMemoryEmailReservations(clock),
        externalIds: createMemoryEmailReservations(clock),
        registry,
        idempotency: createMemoryIdempotencyStore(clock),
        syncs: createMemoryGroupSyncStore({ outbox: memoryDeliveries }),
      }
    }

    const dashboardQueues: Queue[] = []
    /**
     * A durable queue (BullMQ) with Redis, an in-process twin without; watched
     * by the metrics and shown on the dashboard. The caller registers its close:
     * the order matters (see below).
     */
    function jobQueue<T> (name: string, opts: { maxAttempts: number, backoff?: BackoffPolicy }): JobQueue<T> {
      let q: JobQueue<T>
      if (shared) {
        const bull = createBullQueue<T>({
          name,
          connection: shared.bull.connection,
          prefix: shared.bull.prefix,
          ...opts,
          lockDurationMs: config.provisioning.jobLockMs,
          // Planned retries are logged by the handlers themselves.
          onError: (err, jobId) => {
            if (err instanceof RetryLater) return
            if (isRedisConnectionError(err)) failures.report(redisWhat, err)
            else failures.report(`job error in queue ${name}`, err, { jobId, queue: name })
          },
        })
        dashboardQueues.push(bull.bullQueue)
        q = bull
      } else {
        q = createMemoryQueue<T>(opts)
      }
      metrics.watchQueue({ name, counts: () => q.counts() })
      return q
    }

    const queue = jobQueue<ProvisioningJob>('provisioning', { maxAttempts: config.provisioning.jobMaxAttempts })
    const provisioningQueue = {
      enqueue: (r: { id: string, retries: number }, opts?: { delayMs?: number }) => queue.add(jobIdFor(r), { requestId: r.id }, opts),
    }

    // Webhooks: an outbox written with each terminal state, a durable delivery
    // queue with its own retry schedule, and a relay between the two.
    const webhookSchedule = config.webhooks.retryScheduleMs
    const webhookMaxAttempts = webhookSchedule.length + 1 + WEBHOOK_SPARE_ATTEMPTS
    // Created before the queue so that it is closed after the queue's worker.
    const sender = config.role === 'api' ? undefined : createSender({ allowed: parseAllowedNetworks([...config.webhookAllowedNetworks, ...demoAllowed]), timeoutMs: config.webhooks.timeoutMs })
    if (sender) closers.push(() => sender.close())
    // The handler names each delay (schedule ±20 %, Retry-After as a floor).
    const webhookQueue = jobQueue<DeliveryJob>('webhooks', { maxAttempts: webhookMaxAttempts, backoff: { baseMs: 0, capMs: 0 } })
    closers.push(() => webhookQueue.close())
    // Closed before the webhook queue and the relay (closers run in reverse):
    // provisioning jobs still finishing hand their webhooks on.
    closers.push(() => queue.close())
    const deliveryQueue: DeliveryQueue = {
      enqueue: (d) => webhookQueue.add(deliveryJobId(d), { deliveryId: d.id, generation: d.generation }),
    }
    const relay = createRelay({ store: deliveries, queue: deliveryQueue, clock, logger: logger.child({ module: 'webhooks' }), intervalMs: 5000, graceMs: 2000 })
    const webhooks = createWebhookService({ store: deliveries, queue: deliveryQueue, clients: registry, clock, schedule: webhookSchedule })

    const policy = { denied: config.provisioning.deniedPermissions.map(parsePermission).filter((p): p is PermissionPattern => p !== undefined) }
    const directoryFor = (apiClientId: string) => tenants.for(apiClientId).connection.client

    // Groups: mappings from HR paths to Genesys groups and queues, membership syncs.
    const groupSyncQueue = jobQueue<GroupSyncJob>('group-sync', { maxAttempts: config.provisioning.jobMaxAttempts })
    closers.push(() => groupSyncQueue.close())
    const syncQueue = { enqueue: (sync: { id: string }) => groupSyncQueue.add(sync.id, { syncId: sync.id }) }
    // Queues carry no version: their read-modify-writes are serialised across the fleet.
    const queueLock: QueueLock = redis ? createRedisQueueLock(redis) : createMemoryQueueLock()
    const mappingService = createMappingService({ store: mappingStore, directoryFor, queueLock, clock, maxGroupDepth: config.maxGroupDepth })
    const syncService = createGroupSyncService({ syncs: stores.syncs, mappings: mappingStore, queue: syncQueue, clock, maxGroupDepth: config.maxGroupDepth })

    const service = createProvisioningService({
      ...stores,
      intake: tenants,
      queue: provisioningQueue,
      clock,
      staticChecks: options.faults?.skipDivisionCheck === true ? withoutDivisionCheck(staticChecks) : staticChecks,
      config: { maxGroupDepth: config.maxGroupDepth, idempotencyTtlHours: config.provisioning.idempotencyTtlHours },
    })

    if (sender) {
      const handle = createProvisioningWorker({
        requests: stores.requests,
        reservations: stores.reservations,
        externalIds: stores.externalIds,
        registry: stores.registry,
        clients: registry,
        genesysFor: (apiClientId) => tenants.for(apiClientId),
        // Several OAuth clients: none may hold more than half of this process's slots.
        ...(tenants.all().length > 1 ? { slotsPerTenant: Math.max(1, Math.ceil(config.provisioning.workerConcurrency / 2)) } : {}),
        clock,
        logger: logger.child({ module: 'worker' }),
        policy,
        ...(options.faults?.skipDivisionCheck === true ? { faults: { skipDivisionCheck: true } } : {}),
        emailReservationSeconds: EMAIL_RESERVATION_SECONDS,
        outbox: (record) => deliveryFor(record, registry.get(record.clientId)),
        onTerminal: async (record) => {
          metrics.provisioningOutcome(record)
          if (record.webhookId !== undefined) await relay.dispatch(record.webhookId)
        },
      })
      queue.process(handle, { concurrency: config.provisioning.workerConcurrency })

      webhookQueue.process(createDeliveryHandler({
        store: deliveries,
        clients: registry,
        sender,
        clock,
        schedule: webhookSchedule,
        logger: logger.child({ module: 'webhooks' }),
        onAttempt: metrics.webhookAttempt,
        onOutcome: metrics.webhookOutcome,
      }), { concurrency: config.webhooks.concurrency })
      readiness.push({
        name: 'workers',
        async check () {
          if (!queue.isProcessing() || !webhookQueue.isProcessing() || !groupSyncQueue.isProcessing()) throw new Error('a job worker is not running')
          return `provisioning ×${config.provisioning.workerConcurrency}, webhooks ×${config.webhooks.concurrency}, group syncs ×${GROUP_SYNC_CONCURRENCY}`
        },
      })
      groupSyncQueue.process(createGroupSyncWorker({
        syncs: stores.syncs,
        directoryFor,
        mappings: mappingStore,
        registry: stores.registry,
        clock,
        logger: logger.child({ module: 'group-sync' }),
        maxRemovalsPercent: config.groups.maxRemovalsPercent,
        outbox: (sync) => deliveryForGroupSync(sync, registry.get(sync.clientId)),
        onTerminal: async (sync) => { if (sync.webhookId !== undefined) await relay.dispatch(sync.webhookId) },
      }), { concurrency: GROUP_SYNC_CONCURRENCY })
      // A sync accepted just before a crash (stored, not yet queued) is queued again.
      const syncSweep = periodic(async () => {
        for (const id of await stores.syncs.pending(new Date(clock.now() - 60_000).toISOString(), 200)) await syncQueue.enqueue({ id })
      }, { intervalMs: 30_000, logger, what: 'group sync sweep' })
      syncSweep.start()
      closers.push(() => syncSweep.stop())
      relay.start()
      closers.push(() => relay.stop())
      const dispatcher = createDispatcher({
        requests: stores.requests,
        queue: provisioningQueue,
        clock,
        logger: logger.child({ module: 'dispatcher' }),
        staleAfterMs: 60_000,
        intervalMs: 30_000,
      })
      dispatcher.start()
      closers.push(() => dispatcher.stop())
    }

    return {
      clients: registry,
      readiness,
      demoApiKey,
      simulatorUrl,
      genesys,
      provisioning: {
        service,
        dryRun: (client, body) => {
          const t = tenants.for(client.id)
          return dryRun({ directory: t.connection.client, groups: t.groups, cache: t.cache, reservations: stores.reservations, externalIds: stores.externalIds, registry: stores.registry, policy, maxGroupDepth: config.maxGroupDepth }, client, body)
        },
        idempotencyTtlHours: config.provisioning.idempotencyTtlHours,
        clientIds: () => registry.list().map((c) => c.id),
        webhookSummary: async (record) => {
          const d = record.webhookId === undefined ? undefined : await deliveries.get(record.webhookId)
          return d && summarize(d)
        },
      },
      webhooks: { service: webhooks },
      groups: { mappings: mappingService, syncs: syncService, maxRemovalsPercent: config.groups.maxRemovalsPercent },
      metrics,
      variablesRead: clients.flatMap((c) => (c.genesys ? [c.genesys.clientIdEnv, c.genesys.clientSecretEnv] : [])),
      queues: dashboardQueues,
      queueNotes: {
        provisioning: () => `Genesys calls in the last 60 s from this replica, per OAuth client (each may send ${config.genesys.rateLimitPerMinute}/min, shared by the fleet): ${budgetUse.snapshot().map((u) => `${u.oauthClient} ${u.lastMinute}`).join(', ')}`,
      },
      ...(redis ? { redis } : {}),
      describe: () => ({
        genesysOrigin: new URL(genesysTarget.apiUrl).origin,
        redis: shared ? shared.describe() : 'off (embedded, not durable)',
      }),
      close,
    }
  } catch (err) {
    await close()
    throw err
  }
}

/** Static checks with the division check turned off (the `skipDivisionCheck` test fault). */
function withoutDivisionCheck (checks: typeof staticChecks): typeof staticChecks {
  return (body, ctx) => {
    const checked = checks(body, ctx)
    return { ...checked, issues: checked.issues.filter((i) => i.code !== 'division.notAllowed') }
  }
}

/** The bundled receiver for the embedded demo: loopback, a fresh secret, each verified event logged. */
async function startDemoReceiver (logger: FastifyBaseLogger): Promise<{ url: string, secret: string, close (): Promise<void> }> {
  const secret = `whsec_${randomBytes(32).toString('base64')}`
  const log = logger.child({ module: 'demo-receiver' })
  const receiver = await startReceiver({
    port: 0,
    host: '127.0.0.1',
    secrets: [secret],
    toleranceSeconds: 300,
    out: (line) => log.info({ webhook: JSON.parse(line) as unknown }, 'demo receiver: verified webhook received'),
    err: (line) => log.warn({ refused: JSON.parse(line) as unknown }, 'demo receiver: webhook refused'),
  })
  log.info({ url: receiver.url }, 'demo webhook receiver listening')
  return { url: receiver.url, secret, close: () => receiver.close() }
}

/** Warns about each client webhook whose destination the SSRF guard refuses (names that do not resolve are left to delivery). */
async function warnRefusedWebhooks (clients: readonly ApiClient[], allowed: ReturnType<typeof parseAllowedNetworks>, logger: FastifyBaseLogger): Promise<void> {
  for (const client of clients) {
    if (!client.webhook) continue
    let url: URL
    try {
      url = new URL(client.webhook.url)
    } catch {
      logger.warn({ clientId: client.id }, `client "${client.id}": the webhook URL is not a URL; every event will be dead-lettered`)
      continue
    }
    try {
      await checkDestination(url, allowed)
    } catch (err) {
      if (!(err instanceof WebhookDestinationRefused)) continue
      logger.warn({ clientId: client.id, webhookOrigin: url.origin, reason: err.reason }, `client "${client.id}": webhooks to ${url.origin} will always be refused (${err.reason}); use https to a public host, or add its network to WEBHOOK_ALLOWED_NETWORKS`)
    }
  }
}
