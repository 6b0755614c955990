import { buildApp } from '../src/http/app.js'
import { createClientRegistry } from '../src/config/clients.js'
import { loadConfig } from '../src/config/load-config.js'
import { staticChecks } from '../src/provisioning/checks/static-checks.js'
import { createProvisioningService } from '../src/provisioning/service.js'
import { createMemoryIdempotencyStore, createMemoryRequestStore, createMemoryWorkerRegistry } from '../src/provisioning/store/memory.js'
import { createMemoryDeliveryStore } from '../src/webhooks/store/memory.js'
import { createMemoryGroupSyncStore, createMemoryMappingStore } from '../src/groups/store/memory.js'
import { createMemoryQueueLock } from '../src/groups/lock/memory.js'
import { createMappingService, type MappingDirectory } from '../src/groups/mappings.js'
import { createGroupSyncService } from '../src/groups/sync.js'
import { createWebhookService } from '../src/webhooks/service.js'
import { INTAKE_ANSWERS } from '../src/http/views/provisioning.js'

/**
 * The OpenAPI document as the routes declare it, rendered deterministically.
 * Routes are registered with in-memory services: only their declarations matter.
 */
export async function renderOpenApi (): Promise<string> {
  const config = loadConfig({})
  const clock = { now: Date.now }
  const service = createProvisioningService({
    answers: INTAKE_ANSWERS,
    requests: createMemoryRequestStore(),
    registry: createMemoryWorkerRegistry(),
    idempotency: createMemoryIdempotencyStore(clock),
    queue: { enqueue: async () => {} },
    clock,
    staticChecks,
    config: { maxGroupDepth: config.maxGroupDepth, idempotencyTtlHours: config.provisioning.idempotencyTtlHours },
  })
  const app = await buildApp({
    config,
    deps: {
      clients: createClientRegistry([]),
      readiness: [],
      provisioning: {
        service,
        idempotencyTtlHours: config.provisioning.idempotencyTtlHours,
        dryRun: async () => { throw new Error('not used when rendering the document') },
      },
      groups: {
        mappings: createMappingService({ store: createMemoryMappingStore(), directoryFor: () => unusedDirectory(), queueLock: createMemoryQueueLock(), clock, maxGroupDepth: config.maxGroupDepth }),
        syncs: createGroupSyncService({ syncs: createMemoryGroupSyncStore(), mappings: createMemoryMappingStore(), queue: { enqueue: async () => {} }, clock, maxGroupDepth: config.maxGroupDepth }),
        maxRemovalsPercent: config.groups.maxRemovalsPercent,
      },
      webhooks: {
        service: createWebhookService({ store: createMemoryDeliveryStore(), queue: { enqueue: async () => {} }, clients: createClientRegistry([]), clock, schedule: config.webhooks.retryScheduleMs }),
      },
    },
  })
  await app.ready()
  const doc = app.swagger()
  await app.close()
  return JSON.stringify(doc, null, 2) + '\n'
}

export const OPENAPI_PATH = new URL('../openapi/openapi.json', import.meta.url)

/** Rendering the document calls no route: a directory that refuses to be used. */
function unusedDirectory (): MappingDirectory {
  const fail = async (): Promise<never> => { throw new Error('not used when rendering the document') }
  return {
    groups: { findByDisplayName: fail },
    platformGroups: { create: fail },
    queues: { byName: fail, get: fail, updateMemberGroups: fail },
    divisions: { byName: fail, home: fail },
  }
}
