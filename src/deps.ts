import type { FastifyBaseLogger } from 'fastify'
import { createAdapters } from './compose/adapters.js'
import { createClosers } from './compose/closers.js'
import { loadClients } from './compose/clients.js'
import { createGenesysSide } from './compose/genesys.js'
import { createBatchesFeature } from './compose/batches.js'
import { createGroupsFeature, workersCheck } from './compose/groups.js'
import { createImportsFeature } from './compose/imports.js'
import { createDriftFeature } from './compose/drift.js'
import { createProvisioningFeature } from './compose/provisioning.js'
import { createWebhooksFeature } from './compose/webhooks.js'
import { createClientRegistry } from './config/clients.js'
import type { Config } from './config/load-config.js'
import type { GenesysConnection } from './genesys/connection.js'
import type { AppDeps } from './http/app.js'
import { createFailureLog } from './lib/failure-log.js'
import type { ReadinessCheck } from './lib/readiness.js'
import type { Clock } from './lib/timers.js'
import { createMetrics } from './metrics.js'

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

export interface DepsOptions {
  /** Where the clients file's `genesys.clientIdEnv` / `clientSecretEnv` are read: the entry point passes the process environment. */
  env?: Readonly<Record<string, string | undefined>>
  /** Test-only, never from the environment: `skipDivisionCheck` leaves only Genesys' division-scoped permissions between a tenant and another division. */
  faults?: { skipDivisionCheck?: boolean }
  /** Test-only: the service's clock (scheduled changes come due by it); the wall clock unless given. */
  clock?: Clock
}

/**
 * The one composition root: adapters (Redis or memory, decided once), the API
 * clients, one Genesys connection per OAuth client, then each feature; for
 * ROLE=worker|all the job consumers. `close()` releases all in reverse order.
 */
export async function createDeps (config: Readonly<Config>, logger: FastifyBaseLogger, options: DepsOptions = {}): Promise<Deps> {
  const closers = createClosers(logger)
  const readiness: ReadinessCheck[] = []
  const clock: Clock = options.clock ?? { now: Date.now }
  const metrics = createMetrics()
  const failures = createFailureLog(logger, { intervalMs: 30_000 })
  try {
    const { clients, demoApiKey, demoAllowed } = await loadClients(config, logger, closers)
    const registry = createClientRegistry(clients)
    const adapters = await createAdapters(config, { logger, failures, clock, closers, readiness, metrics })
    const side = await createGenesysSide(config, clients, adapters, { logger, clock, metrics, closers, readiness, env: options.env ?? {} })
    const base = { clients: registry, clock, logger, metrics, closers, jobQueue: adapters.jobQueue }
    // Created in this order so that they close in reverse: groups, provisioning, then webhooks (jobs finishing hand their webhooks on).
    const webhooks = createWebhooksFeature(config, { ...base, deliveries: adapters.stores.deliveries, alsoAllowed: demoAllowed })
    const provisioning = createProvisioningFeature(config, { ...base, stores: adapters.stores, tenants: side.tenants, skipDivisionCheck: options.faults?.skipDivisionCheck === true })
    const groups = createGroupsFeature(config, { ...base, stores: adapters.stores, directoryFor: (id) => side.tenants.for(id).connection.client })
    const batches = createBatchesFeature({ ...base, stores: adapters.stores, desire: provisioning.routes.service.desire, dispatch: webhooks.dispatch })
    const imports = createImportsFeature(config, { ...base, stores: adapters.stores, tenants: side.tenants, desire: provisioning.routes.service.desire })
    const drift = createDriftFeature(config, { ...base, stores: adapters.stores, tenants: side.tenants, provisioning: provisioning.routes.service, dispatch: webhooks.dispatch })
    if (config.role !== 'api') {
      provisioning.startWorker(webhooks.dispatch, (record) => batches.service.settle(record))
      batches.startSweep()
      imports.startWorker()
      drift.startWorker()
      webhooks.startWorker()
      groups.startWorker(webhooks.dispatch)
      webhooks.startRelay()
      provisioning.startDispatcher()
      readiness.push(workersCheck(config, [provisioning.queue, webhooks.queue, groups.queue, imports.queue, drift.queue]))
    }
    return {
      clients: registry,
      readiness,
      demoApiKey,
      simulatorUrl: side.simulatorUrl,
      genesys: side.tenants.fallback.connection,
      provisioning: provisioning.routes,
      webhooks: { service: webhooks.service },
      groups: { mappings: groups.mappings, syncs: groups.syncs, maxRemovalsPercent: config.groups.maxRemovalsPercent },
      batches: { batches: batches.service }, imports: { imports: imports.service }, drift: { drift: drift.service },
      metrics,
      variablesRead: clients.flatMap((c) => (c.genesys ? [c.genesys.clientIdEnv, c.genesys.clientSecretEnv] : [])),
      queues: adapters.dashboardQueues,
      queueNotes: side.queueNotes,
      ...(adapters.redis ? { redis: adapters.redis } : {}),
      describe: () => ({ genesysOrigin: side.apiOrigin, redis: adapters.describe() }),
      close: () => closers.close(),
    }
  } catch (err) {
    await closers.close()
    throw err
  }
}
