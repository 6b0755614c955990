import type { FastifyBaseLogger } from 'fastify'
import type { ClientRegistry } from '../config/clients.js'
import type { Config } from '../config/load-config.js'
import type { JobQueue } from '../jobs/queue.js'
import type { Clock } from '../lib/timers.js'
import type { Metrics } from '../metrics.js'
import { parsePermission, type PermissionPattern } from '../provisioning/checks/permissions.js'
import { staticChecks } from '../provisioning/checks/static-checks.js'
import { createDispatcher } from '../provisioning/dispatcher.js'
import { periodic } from '../lib/periodic.js'
import { dryRun, type DryRun } from '../provisioning/dry-run.js'
import { deliveryFor } from '../provisioning/events.js'
import type { ChangeWindow, EmailReservations, IdempotencyStore, ProvisioningRecord, RequestStore } from '../provisioning/ports.js'
import type { WorkerRegistry } from '../provisioning/registry.js'
import type { RequestKind } from '../provisioning/model.js'
import { createProvisioningService, jobIdFor } from '../provisioning/service.js'
import { EMAIL_RESERVATION_SECONDS } from '../provisioning/store/keys.js'
import type { Tenants } from '../provisioning/tenants.js'
import { clientSlotLimits, createProvisioningWorker, type ProvisioningJob } from '../provisioning/worker.js'
import type { ProvisioningRoutesOptions } from '../http/routes/provisioning.js'
import type { DeliveryStore } from '../webhooks/ports.js'
import { summarize } from '../webhooks/service.js'
import type { Closers } from './closers.js'
import { INTAKE_ANSWERS } from '../http/views/provisioning.js'

export interface ProvisioningFeature {
  /** The intake service, the dry run and what the provisioning routes show with them. */
  routes: ProvisioningRoutesOptions
  queue: JobQueue<ProvisioningJob>
  /** Runs provisioning jobs; each terminal request's webhook is handed to `dispatch`. */
  startWorker (dispatch: (deliveryId: string) => Promise<void>, afterTerminal?: (record: ProvisioningRecord) => Promise<void>): void
  /** Re-queues requests a crash left accepted but not queued, and starts scheduled changes when due; registered to close first. */
  startDispatcher (): void
}

export interface ProvisioningContext {
  stores: { requests: RequestStore, reservations: EmailReservations, externalIds: EmailReservations, registry: WorkerRegistry, changes: ChangeWindow, idempotency: IdempotencyStore, deliveries: DeliveryStore }
  tenants: Tenants
  clients: ClientRegistry
  clock: Clock
  logger: FastifyBaseLogger
  metrics: Metrics
  closers: Closers
  jobQueue: <T>(name: string, opts: { maxAttempts: number }) => JobQueue<T>
  /** Test-only fault: see `DepsOptions.faults`. */
  skipDivisionCheck: boolean
}

/** New hires: the intake service, the dry run, the worker and the dispatcher's sweep. */
export function createProvisioningFeature (config: Readonly<Config>, ctx: ProvisioningContext): ProvisioningFeature {
  const { stores, tenants, clock } = ctx
  const queue = ctx.jobQueue<ProvisioningJob>('provisioning', { maxAttempts: config.provisioning.jobMaxAttempts })
  // Closed before the webhook queue and the relay (closers run in reverse): jobs still finishing hand their webhooks on.
  ctx.closers.push(() => queue.close())
  const provisioningQueue = {
    enqueue: (r: { id: string, retries: number, kind?: RequestKind }, opts?: { delayMs?: number }) => queue.add(jobIdFor(r), { requestId: r.id }, { ...opts, urgent: r.kind === 'terminate' }),
  }
  const policy = { denied: config.provisioning.deniedPermissions.map(parsePermission).filter((p): p is PermissionPattern => p !== undefined) }
  const maxGroupDepth = config.maxGroupDepth
  const idempotencyTtlHours = config.provisioning.idempotencyTtlHours
  const service = createProvisioningService({
    ...stores,
    answers: INTAKE_ANSWERS,
    intake: tenants,
    queue: provisioningQueue,
    clock,
    staticChecks: ctx.skipDivisionCheck ? withoutDivisionCheck(staticChecks) : staticChecks,
    config: { maxGroupDepth, idempotencyTtlHours, hrTimeZone: config.provisioning.hrTimeZone, deleteAfterDays: config.provisioning.deleteAfterDays },
    brake: { changes: stores.changes, ...config.provisioning.brake },
    onHeld: (record, seen) => {
      ctx.metrics.lifecycleHeld(record.kind ?? 'hire')
      ctx.logger.error({ alert: 'lifecycle_brake', clientId: record.clientId, provisioningId: record.id, kind: record.kind, changesLastHour: seen.changes, limit: seen.limit }, `mass-change brake: ${seen.changes} terminations and moves by client ${record.clientId} within an hour exceed ${seen.limit}; ${record.id} is held until an admin confirms it`)
    },
  })
  const dryRunFor: DryRun = (client, body) => {
    const t = tenants.for(client.id)
    return dryRun({ directory: t.connection.client, groups: t.groups, cache: t.cache, reservations: stores.reservations, externalIds: stores.externalIds, registry: stores.registry, policy, maxGroupDepth, maxUpstreamCalls: config.provisioning.dryRunMaxUpstreamCalls }, client, body)
  }
  return {
    routes: {
      service,
      dryRun: dryRunFor,
      idempotencyTtlHours,
      clientIds: () => ctx.clients.list().map((c) => c.id),
      webhookSummary: async (record) => {
        const d = record.webhookId === undefined ? undefined : await stores.deliveries.get(record.webhookId)
        return d && summarize(d)
      },
    },
    queue,
    startWorker (dispatch, afterTerminal) {
      queue.process(createProvisioningWorker({
        requests: stores.requests,
        reservations: stores.reservations,
        externalIds: stores.externalIds,
        registry: stores.registry,
        clients: ctx.clients,
        genesysFor: (apiClientId) => tenants.for(apiClientId),
        // Several OAuth clients: none may hold more than half of this process's slots.
        ...(tenants.all().length > 1 ? { slotsPerTenant: Math.max(1, Math.ceil(config.provisioning.workerConcurrency / 2)) } : {}),
        // Each API client holds at most its share (terminations excepted).
        slotsPerClient: clientSlotLimits(ctx.clients.list(), config.provisioning.workerConcurrency),
        clock,
        logger: ctx.logger.child({ module: 'worker' }),
        policy,
        ...(ctx.skipDivisionCheck ? { faults: { skipDivisionCheck: true } } : {}),
        emailReservationSeconds: EMAIL_RESERVATION_SECONDS,
        outbox: (record) => deliveryFor(record, ctx.clients.get(record.clientId)),
        onTerminal: async (record) => {
          ctx.metrics.provisioningOutcome(record)
          if (record.webhookId !== undefined) await dispatch(record.webhookId)
          await afterTerminal?.(record)
        },
      }), { concurrency: config.provisioning.workerConcurrency })
    },
    startDispatcher () {
      const dispatcher = createDispatcher({ requests: stores.requests, queue: provisioningQueue, clock, logger: ctx.logger.child({ module: 'dispatcher' }), staleAfterMs: 60_000, intervalMs: 30_000 })
      dispatcher.start()
      ctx.closers.push(() => dispatcher.stop())
      // Scheduled changes start within a second or two of their effective time, on whichever worker looks first.
      const scheduler = periodic(() => service.startDue(100), { intervalMs: 1000, logger: ctx.logger.child({ module: 'scheduler' }), what: 'scheduled changes sweep' })
      scheduler.start()
      ctx.closers.push(() => scheduler.stop())
    },
  }
}

/** Static checks with the division check turned off (the `skipDivisionCheck` test fault). */
function withoutDivisionCheck (checks: typeof staticChecks): typeof staticChecks {
  return (body, ctx) => {
    const checked = checks(body, ctx)
    return { ...checked, issues: checked.issues.filter((i) => i.code !== 'division.notAllowed') }
  }
}
