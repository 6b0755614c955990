import type { FastifyBaseLogger } from 'fastify'
import type { Queue } from 'bullmq'
import type { FetchToken, RateBudget, TokenEvent, TokenProvider } from '../genesys/ports.js'
import type { RateBudgetEvent } from '../genesys/budget/memory.js'
import type { GroupSyncStore, MappingStore, QueueLock } from '../groups/ports.js'
import type { BatchStore } from '../batches/ports.js'
import type { ImportStore } from '../imports/ports.js'
import type { DriftStore } from '../drift/ports.js'
import type { BackoffPolicy, JobQueue } from '../jobs/queue.js'
import type { FailureLog } from '../lib/failure-log.js'
import type { ReadinessCheck } from '../lib/readiness.js'
import type { Clock } from '../lib/timers.js'
import type { ChangeWindow, EmailReservations, IdempotencyStore, RequestStore, SharedDirectoryCache } from '../provisioning/ports.js'
import type { WorkerRegistry } from '../provisioning/registry.js'
import type { RedisClient } from '../redis/connection.js'
import type { DeliveryStore } from '../webhooks/ports.js'
import type { Closers } from './closers.js'

/** Every store, queue and shared Genesys state the features run on: Redis-backed, or in-memory twins. */
export interface Adapters {
  stores: {
    requests: RequestStore
    reservations: EmailReservations
    externalIds: EmailReservations
    registry: WorkerRegistry
    /** Terminations and moves per client over the last hour (the mass-change brake). */
    changes: ChangeWindow
    idempotency: IdempotencyStore
    syncs: GroupSyncStore
    mappings: MappingStore
    batches: BatchStore
    imports: ImportStore
    drift: DriftStore
    deliveries: DeliveryStore
    /** Queues carry no version: their read-modify-writes are serialised across the fleet. */
    queueLock: QueueLock
  }
  /** One OAuth client's token cache and rate budget (shared by the fleet with Redis). */
  genesysState (ref: { clientId: string, clientSecret: string }, logger: FastifyBaseLogger, listen: { tokenEvent: (e: TokenEvent) => void, budgetEvent: (e: RateBudgetEvent) => void }): { tokenProvider: (fetchToken: FetchToken) => TokenProvider, budget: RateBudget }
  /** With Redis: the directory cache one OAuth client's replicas share (without, each process's own cache is the only one). */
  directoryCache?: (genesysClientId: string) => SharedDirectoryCache
  /** A job queue (BullMQ with Redis, in-process without); the caller registers its close, as the order matters. */
  jobQueue<T> (name: string, opts: { maxAttempts: number, backoff?: BackoffPolicy }): JobQueue<T>
  /** BullMQ queues, for the dashboard. */
  dashboardQueues: Queue[]
  redis?: RedisClient
  describe (): string
}

export interface AdapterContext {
  logger: FastifyBaseLogger
  failures: FailureLog
  clock: Clock
  closers: Closers
  readiness: ReadinessCheck[]
}
