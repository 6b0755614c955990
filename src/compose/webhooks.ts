import type { FastifyBaseLogger } from 'fastify'
import type { ClientRegistry } from '../config/clients.js'
import type { Config } from '../config/load-config.js'
import type { JobQueue } from '../jobs/queue.js'
import type { Clock } from '../lib/timers.js'
import type { Metrics } from '../metrics.js'
import { createDeliveryHandler, createRelay } from '../webhooks/delivery.js'
import { deliveryJobId, type DeliveryJob, type DeliveryQueue, type DeliveryStore } from '../webhooks/ports.js'
import { createSender } from '../webhooks/sender.js'
import { createWebhookService, type WebhookService } from '../webhooks/service.js'
import { parseAllowedNetworks } from '../webhooks/ssrf.js'
import type { Closers } from './closers.js'

/** Attempts a webhook job may spend on its own errors (a Redis blip) beyond the schedule. */
const WEBHOOK_SPARE_ATTEMPTS = 20

export interface WebhooksFeature {
  service: WebhookService
  queue: JobQueue<DeliveryJob>
  /** Hands a delivery written with a terminal state to the queue at once (the relay sweeps up the rest). */
  dispatch (deliveryId: string): Promise<void>
  /** Processes deliveries (ROLE=worker|all): only processes that send webhooks have a sender. */
  startWorker (): void
  /** Starts the relay from the outbox to the queue; registered to close before the queues. */
  startRelay (): void
}

export interface WebhooksContext {
  deliveries: DeliveryStore
  clients: ClientRegistry
  clock: Clock
  logger: FastifyBaseLogger
  metrics: Metrics
  closers: Closers
  jobQueue: <T>(name: string, opts: { maxAttempts: number, backoff?: { baseMs: number, capMs: number } }) => JobQueue<T>
  /** Networks the sender may reach besides WEBHOOK_ALLOWED_NETWORKS (the demo receiver). */
  alsoAllowed: readonly string[]
}

/**
 * Webhooks: an outbox written with each terminal state, a durable delivery
 * queue with its own retry schedule, and a relay between the two.
 */
export function createWebhooksFeature (config: Readonly<Config>, ctx: WebhooksContext): WebhooksFeature {
  const schedule = config.webhooks.retryScheduleMs
  const logger = ctx.logger.child({ module: 'webhooks' })
  // Created before the queue so that it is closed after the queue's worker.
  const sender = config.role === 'api' ? undefined : createSender({ allowed: parseAllowedNetworks([...config.webhookAllowedNetworks, ...ctx.alsoAllowed]), timeoutMs: config.webhooks.timeoutMs })
  if (sender) ctx.closers.push(() => sender.close())
  // The handler names each delay (schedule ±20 %, Retry-After as a floor).
  const queue = ctx.jobQueue<DeliveryJob>('webhooks', { maxAttempts: schedule.length + 1 + WEBHOOK_SPARE_ATTEMPTS, backoff: { baseMs: 0, capMs: 0 } })
  ctx.closers.push(() => queue.close())
  const deliveryQueue: DeliveryQueue = {
    enqueue: (d) => queue.add(deliveryJobId(d), { deliveryId: d.id, generation: d.generation }),
  }
  const relay = createRelay({ store: ctx.deliveries, queue: deliveryQueue, clock: ctx.clock, logger, intervalMs: 5000, graceMs: 2000 })
  return {
    service: createWebhookService({ store: ctx.deliveries, queue: deliveryQueue, clients: ctx.clients, clock: ctx.clock, schedule }),
    queue,
    dispatch: (id) => relay.dispatch(id),
    startWorker () {
      if (!sender) return
      queue.process(createDeliveryHandler({
        store: ctx.deliveries,
        clients: ctx.clients,
        sender,
        clock: ctx.clock,
        schedule,
        logger,
        onAttempt: ctx.metrics.webhookAttempt,
        onOutcome: ctx.metrics.webhookOutcome,
      }), { concurrency: config.webhooks.concurrency })
    },
    startRelay () {
      relay.start()
      ctx.closers.push(() => relay.stop())
    },
  }
}
