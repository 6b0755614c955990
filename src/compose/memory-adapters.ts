import type { Config } from '../config/load-config.js'
import { createMemoryRateBudget } from '../genesys/budget/memory.js'
import { createMemoryTokenProvider } from '../genesys/token/memory.js'
import { createMemoryQueueLock } from '../groups/lock/memory.js'
import { createMemoryGroupSyncStore, createMemoryMappingStore } from '../groups/store/memory.js'
import { createMemoryBatchStore } from '../batches/store/memory.js'
import { createMemoryDriftStore } from '../drift/store/memory.js'
import { createMemoryImportStore } from '../imports/store/memory.js'
import { createMemoryQueue } from '../jobs/memory-queue.js'
import type { Clock } from '../lib/timers.js'
import { createMemoryChangeWindow, createMemoryEmailReservations, createMemoryIdempotencyStore, createMemoryRequestStore, createMemoryWorkerRegistry } from '../provisioning/store/memory.js'
import { createMemoryDeliveryStore } from '../webhooks/store/memory.js'
import type { Adapters } from './adapter-ports.js'

/** The embedded default: every store and queue in this process (not durable). */
export function memoryAdapters (config: Readonly<Config>, clock: Clock): Adapters {
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
