import type { Desire } from '../batches/service.js'
import type { ClientRegistry } from '../config/clients.js'
import type { Config } from '../config/load-config.js'
import type { ImportJob, ImportStore } from '../imports/ports.js'
import { createImportService, type ImportService } from '../imports/service.js'
import type { JobQueue } from '../jobs/queue.js'
import type { Clock } from '../lib/timers.js'
import type { WorkerRegistry } from '../provisioning/registry.js'
import type { Tenants } from '../provisioning/tenants.js'
import type { Closers } from './closers.js'

/** Imports a worker process runs at once: each reads the org page by page within the rate budget. */
export const IMPORT_CONCURRENCY = 1

export interface ImportsFeature {
  service: ImportService
  queue: JobQueue<ImportJob>
  /** Runs queued imports in this process. */
  startWorker (): void
}

export interface ImportsContext {
  stores: { imports: ImportStore, registry: WorkerRegistry }
  tenants: Tenants
  desire: Desire
  clients: ClientRegistry
  clock: Clock
  closers: Closers
  jobQueue: <T>(name: string, opts: { maxAttempts: number }) => JobQueue<T>
}

/** Imports: matching an HR roster to an org that already has users, as durable jobs. */
export function createImportsFeature (config: Readonly<Config>, ctx: ImportsContext): ImportsFeature {
  const queue = ctx.jobQueue<ImportJob>('import', { maxAttempts: config.provisioning.jobMaxAttempts })
  ctx.closers.push(() => queue.close())
  const service = createImportService({
    store: ctx.stores.imports,
    queue: { enqueue: (importId) => queue.add(importId, { importId }) },
    registry: ctx.stores.registry,
    genesysFor: (apiClientId) => {
      const t = ctx.tenants.for(apiClientId)
      return { client: t.connection.client, groups: t.groups, cache: t.cache }
    },
    desire: ctx.desire,
    clock: ctx.clock,
    matchBareHrIds: (apiClientId) => ctx.clients.get(apiClientId)?.matchBareHrIds === true,
  })
  return {
    service,
    queue,
    startWorker () {
      queue.process((job) => service.execute(job.data.importId, { last: job.attempt >= job.maxAttempts }), { concurrency: IMPORT_CONCURRENCY })
    },
  }
}
