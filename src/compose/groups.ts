import type { FastifyBaseLogger } from 'fastify'
import type { ClientRegistry } from '../config/clients.js'
import type { Config } from '../config/load-config.js'
import type { GenesysClient } from '../genesys/client.js'
import { deliveryForGroupSync } from '../groups/events.js'
import { createMappingService, type MappingService } from '../groups/mappings.js'
import type { GroupSyncJob, GroupSyncStore, MappingStore, QueueLock } from '../groups/ports.js'
import { createGroupSyncService, createGroupSyncWorker, type GroupSyncService } from '../groups/sync.js'
import type { JobQueue } from '../jobs/queue.js'
import { periodic } from '../lib/periodic.js'
import type { ReadinessCheck } from '../lib/readiness.js'
import type { Clock } from '../lib/timers.js'
import type { WorkerRegistry } from '../provisioning/registry.js'
import type { Closers } from './closers.js'

/** Group syncs run at once per worker process (each paces itself through the rate budget). */
export const GROUP_SYNC_CONCURRENCY = 4

export interface GroupsFeature {
  mappings: MappingService
  syncs: GroupSyncService
  queue: JobQueue<GroupSyncJob>
  /** Processes membership syncs and re-queues the ones a crash left stored but not queued. */
  startWorker (dispatch: (deliveryId: string) => Promise<void>): void
}

export interface GroupsContext {
  stores: { mappings: MappingStore, syncs: GroupSyncStore, registry: WorkerRegistry, queueLock: QueueLock }
  clients: ClientRegistry
  directoryFor: (apiClientId: string) => GenesysClient
  clock: Clock
  logger: FastifyBaseLogger
  closers: Closers
  jobQueue: <T>(name: string, opts: { maxAttempts: number }) => JobQueue<T>
}

/** Groups: mappings from HR paths to Genesys groups and queues, membership syncs. */
export function createGroupsFeature (config: Readonly<Config>, ctx: GroupsContext): GroupsFeature {
  const { stores, clock } = ctx
  const queue = ctx.jobQueue<GroupSyncJob>('group-sync', { maxAttempts: config.provisioning.jobMaxAttempts })
  ctx.closers.push(() => queue.close())
  const syncQueue = { enqueue: (sync: { id: string }) => queue.add(sync.id, { syncId: sync.id }) }
  return {
    mappings: createMappingService({ store: stores.mappings, directoryFor: ctx.directoryFor, queueLock: stores.queueLock, clock, maxGroupDepth: config.maxGroupDepth }),
    syncs: createGroupSyncService({ syncs: stores.syncs, mappings: stores.mappings, queue: syncQueue, clock, maxGroupDepth: config.maxGroupDepth }),
    queue,
    startWorker (dispatch) {
      queue.process(createGroupSyncWorker({
        syncs: stores.syncs,
        directoryFor: ctx.directoryFor,
        mappings: stores.mappings,
        registry: stores.registry,
        clock,
        logger: ctx.logger.child({ module: 'group-sync' }),
        maxRemovalsPercent: config.groups.maxRemovalsPercent,
        outbox: (sync) => deliveryForGroupSync(sync, ctx.clients.get(sync.clientId)),
        onTerminal: async (sync) => { if (sync.webhookId !== undefined) await dispatch(sync.webhookId) },
      }), { concurrency: GROUP_SYNC_CONCURRENCY })
      // A sync accepted just before a crash (stored, not yet queued) is queued again.
      const sweep = periodic(async () => {
        for (const id of await stores.syncs.pending(new Date(clock.now() - 60_000).toISOString(), 200)) await syncQueue.enqueue({ id })
      }, { intervalMs: 30_000, logger: ctx.logger, what: 'group sync sweep' })
      sweep.start()
      ctx.closers.push(() => sweep.stop())
    },
  }
}

/** Readiness of a process that runs jobs: every queue's worker is running. */
export function workersCheck (config: Readonly<Config>, queues: ReadonlyArray<Pick<JobQueue<unknown>, 'isProcessing'>>): ReadinessCheck {
  return {
    name: 'workers',
    async check () {
      if (!queues.every((q) => q.isProcessing())) throw new Error('a job worker is not running')
      return `provisioning ×${config.provisioning.workerConcurrency}, webhooks ×${config.webhooks.concurrency}, group syncs ×${GROUP_SYNC_CONCURRENCY}`
    },
  }
}
