import type { Desire } from '../batches/service.js'
import type { ClientRegistry } from '../config/clients.js'
import type { ImportStore } from '../imports/ports.js'
import { createImportService, type ImportService } from '../imports/service.js'
import type { Clock } from '../lib/timers.js'
import type { WorkerRegistry } from '../provisioning/registry.js'
import type { Tenants } from '../provisioning/tenants.js'

export interface ImportsContext {
  stores: { imports: ImportStore, registry: WorkerRegistry }
  tenants: Tenants
  desire: Desire
  clients: ClientRegistry
  clock: Clock
}

/** Imports: matching an HR roster to an org that already has users. */
export function createImportsFeature (ctx: ImportsContext): { service: ImportService } {
  return {
    service: createImportService({
      store: ctx.stores.imports,
      registry: ctx.stores.registry,
      genesysFor: (apiClientId) => {
        const t = ctx.tenants.for(apiClientId)
        return { client: t.connection.client, groups: t.groups, cache: t.cache }
      },
      desire: ctx.desire,
      clock: ctx.clock,
      matchBareHrIds: (apiClientId) => ctx.clients.get(apiClientId)?.matchBareHrIds === true,
    }),
  }
}
