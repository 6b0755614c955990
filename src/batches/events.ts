import type { ApiClient } from '../config/clients.js'
import { eventId, outboxEntry, type WebhookEvent } from '../webhooks/events.js'
import type { Delivery } from '../webhooks/ports.js'
import type { WorkerBatch } from './ports.js'

/** The outbox entry for a completed batch, or undefined when its client does not take it. */
export function deliveryForBatch (batch: WorkerBatch, client: Pick<ApiClient, 'webhook'> | undefined): Delivery | undefined {
  const event: WebhookEvent = {
    type: 'worker-batch.completed',
    timestamp: batch.completedAt ?? batch.updatedAt,
    data: {
      batchId: batch.id,
      status: batch.status,
      dryRun: batch.dryRun,
      total: batch.total,
      counts: { ...batch.counts, ...(batch.finalCounts ? { completed: batch.finalCounts.completed, failed: batch.finalCounts.failed } : {}) },
      acceptedAt: batch.createdAt,
      completedAt: batch.completedAt ?? batch.updatedAt,
    },
  }
  return outboxEntry({ id: eventId(`worker-batch:${batch.id}`), clientId: batch.clientId, subjectId: batch.id, event }, client)
}
