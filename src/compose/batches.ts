import type { FastifyBaseLogger } from 'fastify'
import { deliveryForBatch } from '../batches/events.js'
import type { BatchStore } from '../batches/ports.js'
import { createBatchService, type BatchService, type Desire } from '../batches/service.js'
import type { ClientRegistry } from '../config/clients.js'
import { periodic } from '../lib/periodic.js'
import type { Clock } from '../lib/timers.js'
import type { RequestStore } from '../provisioning/ports.js'
import type { Closers } from './closers.js'

/** How often open batches are checked for completion (a lost terminal notice, a request cancelled through the API). */
export const BATCH_SWEEP_INTERVAL_MS = 30_000

export interface BatchesFeature {
  service: BatchService
  /** Completes open batches whose requests all ended; their webhooks go to `dispatch`. */
  startSweep (): void
}

export interface BatchesContext {
  stores: { batches: BatchStore, requests: Pick<RequestStore, 'get'> }
  desire: Desire
  clients: ClientRegistry
  clock: Clock
  logger: FastifyBaseLogger
  closers: Closers
  dispatch: (deliveryId: string) => Promise<void>
}

/** Worker batches: many desired states in one call, through the lifecycle. */
export function createBatchesFeature (ctx: BatchesContext): BatchesFeature {
  const service = createBatchService({
    store: ctx.stores.batches,
    desire: ctx.desire,
    requests: ctx.stores.requests,
    clock: ctx.clock,
    outbox: (batch) => deliveryForBatch(batch, ctx.clients.get(batch.clientId)),
    onCompleted: async (batch) => {
      ctx.logger.info({ batchId: batch.id, clientId: batch.clientId, counts: batch.counts, finalCounts: batch.finalCounts }, 'worker batch completed')
      if (batch.webhookId !== undefined) await ctx.dispatch(batch.webhookId)
    },
  })
  return {
    service,
    startSweep () {
      const sweep = periodic(async () => { await service.sweep(100) }, { intervalMs: BATCH_SWEEP_INTERVAL_MS, logger: ctx.logger, what: 'worker batch sweep' })
      sweep.start()
      ctx.closers.push(() => sweep.stop())
    },
  }
}
