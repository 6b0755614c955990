import type { Issue } from '../errors.js'
import type { RequestKind } from '../provisioning/model.js'
import type { Delivery } from '../webhooks/ports.js'

/** Most records in one batch. */
export const MAX_BATCH_RECORDS = 1000

/**
 * What intake did with one record:
 * - `accepted`: it became a provisioning request (`requestId`);
 * - `unchanged`: the worker already is as desired; nothing to do;
 * - `rejected`: refused with its own `issues[]`, nothing stored for it;
 * - `planned`: (dry run) valid, and `change` says what it would do.
 */
export const RECORD_OUTCOMES = ['accepted', 'unchanged', 'rejected', 'planned'] as const
export type RecordOutcome = typeof RECORD_OUTCOMES[number]

export interface BatchRecordResult {
  index: number
  /** The record's HR id, when it had a readable one. */
  hrId?: string
  outcome: RecordOutcome
  /** What the record changes (accepted, planned): hire, update, move, terminate, rehire; none for unchanged. */
  change?: RequestKind | 'none'
  requestId?: string
  issues?: Issue[]
}

/**
 * - `accepting`: its records are being taken in (a retry with the same
 *   Idempotency-Key after a crash finishes this);
 * - `accepted`: every record has its outcome; its requests are running;
 * - `completed`: every accepted record's request is terminal (a dry run, or a
 *   batch with nothing accepted, is completed at once).
 */
export const BATCH_STATUSES = ['accepting', 'accepted', 'completed'] as const
export type BatchStatus = typeof BATCH_STATUSES[number]

export interface IntakeCounts { accepted: number, unchanged: number, rejected: number, planned: number }
export interface RunCounts { completed: number, failed: number, pending: number }

export interface WorkerBatch {
  id: string
  clientId: string
  dryRun: boolean
  status: BatchStatus
  /** SHA-256 of the canonical body; a reused Idempotency-Key with another body is refused. */
  fingerprint: string
  /** Whether the id was derived from an Idempotency-Key (a retry finds this batch). */
  keyed: boolean
  createdAt: string
  updatedAt: string
  completedAt?: string
  total: number
  counts: IntakeCounts
  /** Run counts when the batch completed (while running they are read live). */
  finalCounts?: RunCounts
  results: BatchRecordResult[]
  webhookId?: string
  originRequestId?: string
}

export interface BatchStore {
  /**
   * Claims the intake of a batch id for `ms` (false while another claim
   * holds it): two retries under one Idempotency-Key never take one batch in
   * at once, and a claim a crash left behind lapses.
   */
  lease (id: string, ms: number): Promise<boolean>
  release (id: string): Promise<void>
  /** Stores a new batch; false when one with this id exists already. */
  insert (batch: WorkerBatch): Promise<boolean>
  get (id: string): Promise<WorkerBatch | undefined>
  /** Replaces a batch still being taken in or running (an `accepted` one joins the open set). */
  save (batch: WorkerBatch): Promise<void>
  /** Records that these of the batch's requests are terminal (again is harmless); the number recorded so far. */
  settle (id: string, requestIds: readonly string[]): Promise<number>
  /**
   * Marks the batch completed with its final counts and the webhook it owes,
   * in one step, once: false when it was completed already.
   */
  complete (batch: WorkerBatch, outbox?: Delivery): Promise<boolean>
  /** Ids of accepted, not yet completed batches whose next check is due at `now` (ms), the longest due first. */
  open (limit: number, now: number): Promise<string[]>
  /** When an open batch is checked next (ms). */
  recheck (id: string, at: number): Promise<void>
  /** Drops an id from the open set (its record is gone). */
  forget (id: string): Promise<void>
}

/** How long a batch resource is kept after it was accepted. */
export const BATCH_RETENTION_SECONDS = 30 * 24 * 3600
