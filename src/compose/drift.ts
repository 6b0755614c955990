import type { FastifyBaseLogger } from 'fastify'
import type { AuthenticatedClient, ClientRegistry } from '../config/clients.js'
import type { Config } from '../config/load-config.js'
import { deliveryForDrift } from '../drift/events.js'
import type { DriftStore, ReconcileJob } from '../drift/ports.js'
import { createDriftService, type DriftService } from '../drift/service.js'
import type { JobQueue } from '../jobs/queue.js'
import { scheduleRuns } from '../drift/schedule.js'
import type { Clock } from '../lib/timers.js'
import type { Metrics } from '../metrics.js'
import type { ProvisioningService } from '../provisioning/service.js'
import type { WorkerRegistry } from '../provisioning/registry.js'
import type { Tenants } from '../provisioning/tenants.js'
import type { DeliveryStore } from '../webhooks/ports.js'
import type { Closers } from './closers.js'

export interface DriftFeature {
  service: DriftService
  queue: JobQueue<ReconcileJob>
  /** Runs reconciliation jobs here, and starts one for every client each RECONCILE_INTERVAL_MINUTES. */
  startWorker (): void
}

export interface DriftContext {
  stores: { drift: DriftStore, registry: WorkerRegistry, deliveries: Pick<DeliveryStore, 'insert'> }
  tenants: Tenants
  provisioning: Pick<ProvisioningService, 'restore'>
  clients: ClientRegistry
  clock: Clock
  logger: FastifyBaseLogger
  metrics: Metrics
  closers: Closers
  dispatch: (deliveryId: string) => Promise<void>
  jobQueue: <T>(name: string, opts: { maxAttempts: number }) => JobQueue<T>
}

/** Drift reconciliation: managed workers compared with Genesys, on a schedule and on demand. */
export function createDriftFeature (config: Readonly<Config>, ctx: DriftContext): DriftFeature {
  const { intervalMinutes, mode, budgetPercent } = config.provisioning.reconcile
  const queue = ctx.jobQueue<ReconcileJob>('reconcile', { maxAttempts: 1 })
  ctx.closers.push(() => queue.close())
  // Calls spaced so that a run uses at most its share of one OAuth client's budget.
  const spacingMs = 60_000 / (config.genesys.rateLimitPerMinute * budgetPercent / 100)
  const asCaller = (c: ReturnType<ClientRegistry['list']>[number]): AuthenticatedClient => ({ id: c.id, name: c.name, scopes: c.scopes, divisions: c.divisions, ...(c.externalIdPrefix !== undefined ? { externalIdPrefix: c.externalIdPrefix } : {}) })
  const service = createDriftService({
    store: ctx.stores.drift,
    registry: ctx.stores.registry,
    genesysFor: (apiClientId) => {
      const t = ctx.tenants.for(apiClientId)
      return { client: t.connection.client, cache: t.cache }
    },
    clients: () => ctx.clients.list().map(asCaller),
    client: (id) => { const c = ctx.clients.get(id); return c && asCaller(c) },
    queue: { enqueue: (runId) => queue.add(runId, { runId }) },
    clock: ctx.clock,
    mode,
    pace: () => new Promise((resolve) => setTimeout(resolve, spacingMs)),
    restore: (client, hrId, kind) => ctx.provisioning.restore(client, hrId, kind),
    outbox: (clientId, run, findings) => deliveryForDrift(clientId, run, findings, ctx.clients.get(clientId)),
    deliver: async (delivery) => { if (await ctx.stores.deliveries.insert(delivery)) await ctx.dispatch(delivery.id) },
    onRun: (run, seconds) => {
      ctx.metrics.reconciliation(run, seconds)
      ctx.logger.info({ runId: run.id, status: run.status, workers: run.workers, found: run.found, repairs: run.repairs, upstreamCalls: run.upstreamCalls, seconds }, 'reconciliation finished')
    },
  })
  return {
    service,
    queue,
    startWorker () {
      queue.process((job) => service.execute(job.data.runId), { concurrency: 1 })
      if (intervalMinutes === 0) return
      const tick = scheduleRuns({ service, everyMinutes: intervalMinutes, clock: ctx.clock, logger: ctx.logger })
      tick.start()
      ctx.closers.push(() => tick.stop())
    },
  }
}
