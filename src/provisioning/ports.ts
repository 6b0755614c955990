import type { Issue, ProblemBody } from '../errors.js'
import type { NewHireBody, RequestKind, RequestStatus } from './model.js'
import type { Plan } from './checks/upstream-checks.js'
import type { Delivery } from '../webhooks/ports.js'
import type { WorkerEntry } from './registry.js'

/**
 * What the provisioning use cases need from the outside world, defined by them.
 * Each port has a Redis adapter and an in-memory twin beside it (`store/`) that pass one
 * shared contract suite.
 */


export interface StepRecord {
  /** A hire's (and rehire's) steps, an update's or move's, a termination's. */
  name: 'createUser' | 'updateUser' | 'grantRoles' | 'revokeRoles' | 'joinGroups' | 'deactivate' | 'leaveGroups' | 'deleteUser'
  status: 'done' | 'skipped'
  at: string
  durationMs: number
  /** Upstream ids the step produced or touched (never a secret). */
  detail: Record<string, unknown>
}

export interface RequestError {
  code: string
  message: string
  genesysCode?: string
  correlationId?: string
}

/** A provisioning request and its ledger: the source of truth for resuming after a crash. */
export interface ProvisioningRecord {
  id: string
  clientId: string
  hrId: string
  /** The Genesys externalId of the HR id, in the client's namespace (fixed at intake). */
  externalId?: string
  email: string
  status: RequestStatus
  /** When a scheduled change takes effect (ISO instant); absent on changes that ran at once. */
  effectiveAt?: string
  /** A termination that deletes the (already deactivated) Genesys user for good: `TERMINATION_DELETE_AFTER_DAYS` after a termination. */
  hardDelete?: true
  /** The scheduled hard delete this termination brought with it (cancelled with it). */
  deleteRequestId?: string
  /** What the request does to the worker; absent on records stored before kinds existed (a hire). */
  kind?: RequestKind
  /**
   * The normalised desired state as accepted (holds no secret: the API takes no
   * password): the new hire, or the worker's state a change leads to.
   */
  hire: NewHireBody
  /** Facts worth telling the caller that are neither issues nor errors (e.g. a rehire that had to create a new user). */
  notes?: string[]
  division?: string
  genesysUserId?: string
  createdAt: string
  updatedAt: string
  transitions: Array<{ status: RequestStatus, at: string }>
  steps: StepRecord[]
  issues?: Issue[]
  /** What validation decided to write; fixed once validation passed, so re-runs write the same. */
  plan?: Plan
  error?: RequestError
  /** Job attempts spent across all runs. */
  attempts: number
  /** Manual retries (POST …/retry); each starts a new job generation. */
  retries: number
  /** The webhook delivery reporting this run's outcome, once terminal. */
  webhookId?: string
  /** The x-request-id of the HTTP request that submitted it, so worker log lines lead back to it. */
  originRequestId?: string
  /** The worker batch (`POST /v1/worker-batches`) this request came in with. */
  batchId?: string
}

export interface ListQuery {
  status?: RequestStatus
  hrId?: string
  createdAfter?: string
  limit: number
  cursor?: string
}

export interface RequestStore {
  /**
   * Stores a new request unless the client already has a non-terminal request
   * for the same hrId; then nothing is written and the existing id returned.
   * The record enters the pending set that the dispatcher re-enqueues from, so a
   * crash between insert and enqueue loses nothing.
   */
  insert (record: ProvisioningRecord): Promise<{ inserted: true } | { inserted: false, existingId: string }>
  /*
   * A record in status `scheduled` (with `effectiveAt`) is stored apart: it
   * holds no HR id and is not pending; it waits in the schedule until `due`
   * names it and `unschedule` starts or ends it. A worker may have several.
   */
  get (id: string): Promise<ProvisioningRecord | undefined>
  /**
   * Replaces the record; terminal records leave the pending set and free their
   * hrId. An `outbox` delivery (the webhook the new state owes) is written in the
   * same atomic step, unless a delivery with its id exists; so is a `worker`
   * registry entry (refused with `OwnedElsewhere`, writing nothing, when its
   * Genesys user is owned by another client or HR id).
   */
  save (record: ProvisioningRecord, outbox?: Delivery, worker?: WorkerEntry): Promise<void>
  list (clientId: string, query: ListQuery): Promise<{ items: ProvisioningRecord[], nextCursor?: string }>
  /** Ids of non-terminal requests last updated before `olderThan` (ISO), oldest first. */
  pending (olderThan: string, limit: number): Promise<string[]>
  /** The id of the client's non-terminal request for the HR id, if one is in progress. */
  activeFor (clientId: string, hrId: string): Promise<string | undefined>
  /** Frees a failed request's hrId for a retry or re-takes it; false when another request holds it. */
  claimHrId (record: ProvisioningRecord): Promise<boolean>
  /** Ids of scheduled requests whose effective time is at or before `nowMs`, earliest first. */
  due (nowMs: number, limit: number): Promise<string[]>
  /** The client's scheduled requests for the HR id, in effective order (then creation order), at most `limit`. */
  scheduledFor (clientId: string, hrId: string, limit: number): Promise<ProvisioningRecord[]>
  /**
   * Takes a scheduled request out of the schedule, atomically: `next` is its new
   * state. A terminal one (cancelled) is simply stored. A starting one takes the
   * HR id and becomes pending; when another request holds the HR id nothing
   * changes but its turn, moved to `retryAtMs`, and the holder is answered.
   * `gone` when the request is no longer scheduled (started or cancelled meanwhile).
   */
  unschedule (next: ProvisioningRecord, retryAtMs: number): Promise<{ state: 'done' } | { state: 'gone' } | { state: 'busy', holder: string }>
}

/** Terminations and moves per client over a sliding window, for the mass-change brake. */
export interface ChangeWindow {
  /**
   * Records a change of one worker at `atMs` and answers how many workers the
   * client changed within the `windowMs` before it, this one included (a worker
   * moved and then terminated is one worker: the brake is against mass changes).
   */
  add (clientId: string, worker: string, atMs: number, windowMs: number): Promise<number>
}

/**
 * The directory names the fleet found (roles, divisions, groups, skills,
 * languages), shared by the replicas of one Genesys OAuth client so that each
 * name is read once per TTL, not once per replica. A miss is stored too.
 */
export interface SharedDirectoryCache {
  get (key: string): Promise<{ found: true, value: unknown } | { found: false } | undefined>
  set (key: string, entry: { found: true, value: unknown } | { found: false }, ttlMs: number): Promise<void>
  /** Forgets every entry (an id from the cache answered 404). */
  clear (): Promise<void>
}

export interface EmailReservations {
  /** Reserves the address for a request; returns the id of the request holding it (possibly this one). */
  reserve (email: string, requestId: string, ttlSeconds: number): Promise<string>
  /** The request holding the address, if any (dry runs look without reserving). */
  holder (email: string): Promise<string | undefined>
  release (email: string, requestId: string): Promise<void>
}

/**
 * What an intake came to, in the domain's terms: a request accepted (queued,
 * scheduled or held; `change` says which kind), no change to make, a preview
 * (dry run), or a refusal. Kept with the answer under an Idempotency-Key, so a
 * replay says what it came to without reading the answer.
 */
export type IntakeOutcome =
  | { kind: 'accepted', requestId: string, change: RequestKind }
  | { kind: 'unchanged' }
  | { kind: 'preview', change: RequestKind | 'none' }
  | { kind: 'refused', issues: Issue[] }

/** An outcome with what its answer shows: the request, or the worker and its schedule. */
export type IntakeResult =
  | { kind: 'accepted', record: ProvisioningRecord }
  | { kind: 'unchanged', worker: WorkerEntry, scheduled: ProvisioningRecord[] }
  | { kind: 'preview', change: RequestKind | 'none' }
  | { kind: 'refused', problem: ProblemBody & { issuesTruncated?: number } }

/**
 * How an intake is answered (the HTTP layer's statuses, headers and views):
 * the answer is kept under the Idempotency-Key and replayed as first given.
 */
export interface IntakeAnswers {
  answer (result: IntakeResult): StoredResponse
}

/** An intake's answer as first given, and (from this version on) what it came to. */
export interface StoredResponse {
  status: number
  headers: Record<string, string>
  body: unknown
  outcome?: IntakeOutcome
}

export type IdempotencyBegin =
  | { state: 'new' }
  | { state: 'in-flight' }
  | { state: 'mismatch' }
  | { state: 'replay', response: StoredResponse }

export interface IdempotencyStore {
  /** Claims the key for this fingerprint, or says why not. Keys are scoped by client. */
  begin (clientId: string, key: string, fingerprint: string, lockSeconds: number): Promise<IdempotencyBegin>
  complete (clientId: string, key: string, fingerprint: string, response: StoredResponse, ttlSeconds: number): Promise<void>
  /** Releases an in-flight claim whose request failed in a way worth retrying (5xx). */
  abandon (clientId: string, key: string): Promise<void>
}

export interface ProvisioningQueue {
  /**
   * Enqueues the request's job for its current generation (see `jobIdFor`); a
   * second enqueue while that job exists is a no-op. A termination goes ahead
   * of the waiting jobs.
   */
  enqueue (request: Pick<ProvisioningRecord, 'id' | 'retries' | 'kind'>, opts?: { delayMs?: number }): Promise<void>
}
