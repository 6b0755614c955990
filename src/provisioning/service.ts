import { externalIdFor, type AuthenticatedClient } from '../config/clients.js'
import { errors, isProvisioningError, problemBody, type Issue, type ProvisioningError } from '../errors.js'
import { policyIssuesOfParsedFields } from './checks/parsed-fields.js'
import { REQUEST_KINDS, type NewHireBody, type RequestKind, type WorkerDesired, type WorkerPatch } from './model.js'
import { deriveChange, desireOfPatch, desireOfPut, type Desire } from './lifecycle.js'
import { effectiveInstant } from './effective-time.js'
import { workerCursor, type WorkerEntry, type WorkerListQuery, type WorkerRegistry } from './registry.js'
import { fingerprint } from '../lib/canonical-json.js'
import { newId } from '../lib/ids.js'
import { decodeCursor } from '../lib/cursor.js'
import type { ChangeWindow, IdempotencyStore, IntakeAnswers, IntakeOutcome, IntakeResult, ListQuery, ProvisioningQueue, ProvisioningRecord, RequestStore, StoredResponse } from './ports.js'
import type { RequestStatus } from './model.js'
import type { Clock } from '../lib/timers.js'
import { TERMINAL_STATUSES } from './model.js'

export interface StaticCheckContext {
  client: { divisions: string[] | '*', roles?: string[] }
  maxGroupDepth: number
}

export type StaticChecks = (hire: NewHireBody, ctx: StaticCheckContext) => { normalized: NewHireBody, issues: Issue[] }

export interface AcceptResult {
  /** What the intake came to (for a replay: what the first call came to). */
  outcome: IntakeOutcome
  /** Its answer, as the HTTP layer rendered it (for a replay: as first given). */
  response: StoredResponse
  /** True when this is a replay of an earlier request with the same key. */
  replayed: boolean
  /** The Idempotency-Key fingerprint of this call (method, path, body), for `rememberSent`. */
  fingerprint: string
}

export const WORKERS_PATH = '/v1/workers'

export interface DesireOptions {
  /** The worker batch the change comes in with (recorded on its request). */
  batchId?: string
  /** Derive the change only: answers 200 with `{ change }` (hire, update, move, terminate, rehire or none) and stores nothing. */
  dryRun?: boolean
}

export interface BulkRetryFilter {
  status: 'failed' | 'rejected'
  /** The `error.code` of the requests, e.g. PROV_ERR_CONFIGURATION. */
  code?: string
  createdAfter?: string
  clientId?: string
}

export interface BulkRetryResult {
  retried: Array<{ id: string, clientId: string }>
  skipped: Array<{ id: string, clientId: string, reason: string }>
  more: boolean
}

export interface ProvisioningServiceDeps {
  requests: RequestStore
  /** How an intake is answered (the HTTP layer's statuses and views): kept, and replayed, under its Idempotency-Key. */
  answers: IntakeAnswers
  /** The worker registry: the workers this service manages, per client. */
  registry: Pick<WorkerRegistry, 'get' | 'list' | 'count'>
  idempotency: IdempotencyStore
  queue: ProvisioningQueue
  clock: Clock
  staticChecks: StaticChecks
  /**
   * `hrTimeZone`: the IANA zone a date-only `effectiveAt` is read in (UTC unless given);
   * `deleteAfterDays`: a termination schedules the hard delete of its user this many days later (never, unless given).
   */
  config: { maxGroupDepth: number, idempotencyTtlHours: number, hrTimeZone?: string, deleteAfterDays?: number }
  /** Refuses intake (503) while work could not proceed, e.g. Genesys refuses the credentials. */
  intake?: { assertAccepted (apiClientId: string): void }
  /**
   * The mass-change brake: terminations and moves of one client within an hour
   * beyond `count`, or beyond `percent` of its managed workers, are held.
   */
  brake?: { changes: ChangeWindow, percent: number, count: number }
  /** Told of each request the brake holds (a metric and an alert-level log line). */
  onHeld?: (record: ProvisioningRecord, seen: { changes: number, limit: number }) => void
}

/** The mass-change brake's window. */
export const BRAKE_WINDOW_MS = 3600_000

export const REQUESTS_PATH = '/v1/provisioning-requests'

/** The job id of a record's current run: a manual retry starts a new generation. */
export function jobIdFor (record: Pick<ProvisioningRecord, 'id' | 'retries'>): string {
  return record.retries === 0 ? record.id : `${record.id}-r${record.retries}`
}

/**
 * Intake and reading of provisioning requests. Accepting stores the record and
 * enqueues its job; if the process dies in between, the dispatcher re-enqueues
 * the pending record, so an accepted request is never lost.
 */
/**
 * How long an Idempotency-Key stays locked while its first request is stored.
 * A lock that could not be released (Redis lost mid-request) answers retries
 * 409 in-flight until it expires; past it, a retry that races a still-running
 * first attempt meets the HR id's in-flight guard instead, never a second hire.
 */
export const IDEMPOTENCY_LOCK_SECONDS = 15

export function createProvisioningService (deps: ProvisioningServiceDeps) {
  const { requests, idempotency, queue, clock } = deps
  const idempotencyTtlSeconds = deps.config.idempotencyTtlHours * 3600
  const iso = () => new Date(clock.now()).toISOString()

  /** True when this change takes the client past the brake (the change is counted either way). */
  async function braked (clientId: string, hrId: string, kind: RequestKind): Promise<{ changes: number, limit: number } | undefined> {
    const brake = deps.brake
    if (!brake || (kind !== 'terminate' && kind !== 'move')) return undefined
    const [changes, managed] = await Promise.all([brake.changes.add(clientId, hrId, clock.now(), BRAKE_WINDOW_MS), deps.registry.count(clientId)])
    const limit = Math.min(brake.count, Math.max(1, Math.ceil((brake.percent / 100) * managed)))
    return changes > limit ? { changes, limit } : undefined
  }

  async function createRecord (client: AuthenticatedClient, hire: NewHireBody, originRequestId?: string, change: { kind: RequestKind, worker?: WorkerEntry, effectiveAt?: string, batchId?: string } = { kind: 'hire' }): Promise<ProvisioningRecord> {
    const nowMs = clock.now()
    const now = new Date(nowMs).toISOString()
    const { worker } = change
    const id = newId('prq', nowMs)
    // A scheduled change meets the brake when it takes effect.
    const held = change.effectiveAt === undefined ? await braked(client.id, hire.hrId, change.kind) : undefined
    const status = change.effectiveAt !== undefined ? 'scheduled' as const : held ? 'held' as const : 'accepted' as const
    const newRecord = (recordId: string, recordStatus: RequestStatus, extra: Partial<ProvisioningRecord>): ProvisioningRecord => ({
      id: recordId,
      clientId: client.id,
      hrId: hire.hrId,
      externalId: worker?.externalId ?? externalIdFor(client, hire.hrId),
      email: hire.email,
      status: recordStatus,
      kind: change.kind,
      hire,
      ...subjectOf(change.kind, hire, worker),
      createdAt: now,
      updatedAt: now,
      transitions: [{ status: recordStatus, at: now }],
      steps: [],
      attempts: 0,
      retries: 0,
      ...(originRequestId !== undefined ? { originRequestId } : {}),
      ...(change.batchId !== undefined ? { batchId: change.batchId } : {}),
      ...extra,
    })
    // A termination brings its hard delete, scheduled first so that no crash leaves a termination without it
    // (a delete whose termination never came finds the worker active and ends cancelled).
    const days = change.kind === 'terminate' ? deps.config.deleteAfterDays : undefined
    let companion: ProvisioningRecord | undefined
    if (days !== undefined) {
      const from = change.effectiveAt !== undefined ? Date.parse(change.effectiveAt) : nowMs
      companion = newRecord(newId('prq', nowMs), 'scheduled', {
        effectiveAt: new Date(from + days * DAY_MS).toISOString(),
        hardDelete: true,
        notes: [`Deletes the Genesys user for good ${days} day${days === 1 ? '' : 's'} after termination ${id} (TERMINATION_DELETE_AFTER_DAYS).`],
      })
      await requests.insert(companion)
    }
    const record = newRecord(id, status, {
      ...(change.effectiveAt !== undefined ? { effectiveAt: change.effectiveAt } : {}),
      ...(companion ? { deleteRequestId: companion.id } : {}),
    })
    const inserted = await requests.insert(record)
    if (!inserted.inserted) {
      if (companion) await cancelScheduled(companion, 'Its termination was refused.')
      throw errors.conflict(`Employee ${hire.hrId} already has a provisioning request in progress (${inserted.existingId}).`, {
        headers: { location: `${REQUESTS_PATH}/${inserted.existingId}` },
        retryable: false,
      })
    }
    if (held) deps.onHeld?.(record, held)
    else if (status === 'accepted') await queue.enqueue(record)
    return record
  }

  /**
   * Starts a scheduled change whose time has come: derived again against the
   * worker as it is now (earlier changes have run), braked like any change,
   * queued; one that no longer changes anything ends cancelled, saying so.
   * False when the worker is busy with another request (its turn comes again).
   */
  async function start (record: ProvisioningRecord): Promise<boolean> {
    const entry = await deps.registry.get(record.clientId, record.hrId)
    const recorded = entry ? await recordedDesire(entry) : undefined
    // A hard delete is due only for a worker still terminated (not rehired meanwhile) whose user still exists.
    const derived = record.hardDelete === true
      ? (entry && !entry.active && entry.deletedAt === undefined ? { change: 'terminate' as const } : { change: 'none' as const })
      : deriveChange(entry, record.hire, record.kind === 'terminate' ? 'terminated' : 'active', recorded)
    const now = iso()
    if (derived.change === 'none') {
      const why = record.hardDelete === true ? 'The worker is no longer terminated, or its user is already gone: nothing was deleted.' : 'Nothing differed from the worker\'s state when the change took effect; nothing was done.'
      const ended: ProvisioningRecord = { ...record, status: 'cancelled', notes: [...(record.notes ?? []), why], updatedAt: now, transitions: [...record.transitions, { status: 'cancelled', at: now }] }
      return (await requests.unschedule(ended, clock.now())).state !== 'busy'
    }
    const held = await braked(record.clientId, record.hrId, derived.change)
    const status = held ? 'held' as const : 'accepted' as const
    const next: ProvisioningRecord = {
      ...record,
      kind: derived.change,
      ...subjectOf(derived.change, record.hire, entry),
      status,
      updatedAt: now,
      transitions: [...record.transitions, { status, at: now }],
    }
    const outcome = await requests.unschedule(next, clock.now() + BUSY_RETRY_MS)
    if (outcome.state === 'busy') return false
    if (outcome.state === 'gone') return true
    if (held) deps.onHeld?.(next, held)
    else await queue.enqueue(next)
    return true
  }

  /** Cancels the scheduled changes a later change supersedes, naming it. */
  async function supersedeAll (records: ProvisioningRecord[], by: string | undefined): Promise<void> {
    const note = by !== undefined ? `Superseded by ${by}.` : 'Superseded by a change asking for the worker as it already is.'
    for (const record of records) await cancelScheduled(record, note)
  }

  /** Ends a scheduled change as cancelled (by its client, or superseded by a later change); undefined when it started meanwhile. */
  async function cancelScheduled (record: ProvisioningRecord, note?: string): Promise<ProvisioningRecord | undefined> {
    const cancelled = ended(record, note)
    if ((await requests.unschedule(cancelled, clock.now())).state !== 'done') return undefined
    await cancelCompanion(record)
    return cancelled
  }

  /** A termination that is withdrawn takes its scheduled hard delete with it. */
  async function cancelCompanion (termination: ProvisioningRecord): Promise<void> {
    if (termination.deleteRequestId === undefined) return
    const companion = await requests.get(termination.deleteRequestId)
    if (companion?.status === 'scheduled') await cancelScheduled(companion, `Its termination ${termination.id} was cancelled.`)
  }

  function ended (record: ProvisioningRecord, note?: string): ProvisioningRecord {
    const now = iso()
    return { ...record, status: 'cancelled', ...(note !== undefined ? { notes: [...(record.notes ?? []), note] } : {}), updatedAt: now, transitions: [...record.transitions, { status: 'cancelled', at: now }] }
  }

  /** Releases a held request: it is queued as if just accepted (a new job generation). */
  async function release (record: ProvisioningRecord): Promise<ProvisioningRecord> {
    if (record.status !== 'held') throw errors.conflict(`Only held requests can be confirmed; ${record.id} is ${record.status}.`, { retryable: false })
    const now = iso()
    const released: ProvisioningRecord = { ...record, status: 'accepted', retries: record.retries + 1, updatedAt: now, transitions: [...record.transitions, { status: 'accepted', at: now }] }
    await requests.save(released)
    await queue.enqueue(released)
    return released
  }

  /** Queues a failed or rejected request again: a failed one from where its ledger stopped, a rejected one from validation. */
  async function resume (record: ProvisioningRecord): Promise<ProvisioningRecord> {
    if (!(await requests.claimHrId(record))) {
      throw errors.conflict(`Employee ${record.hrId} has another request in progress.`, { retryable: false })
    }
    const now = iso()
    const status = record.status === 'failed' && record.steps.length > 0 ? 'provisioning' : 'accepted'
    const resumed: ProvisioningRecord = {
      ...record,
      status,
      error: undefined,
      issues: undefined,
      webhookId: undefined,
      retries: record.retries + 1,
      updatedAt: now,
      transitions: [...record.transitions, { status, at: now }],
    }
    await requests.save(resumed)
    await queue.enqueue(resumed)
    return resumed
  }

  /**
   * Runs an intake under an optional Idempotency-Key: a replay answers as
   * first answered, another body under the key is refused, and a refusal the
   * same body would always get is remembered like a success.
   */
  async function withIdempotency (client: AuthenticatedClient, key: string | undefined, print: string, run: () => Promise<IntakeResult>): Promise<AcceptResult> {
    if (key !== undefined) {
      const begun = await idempotency.begin(client.id, key, print, IDEMPOTENCY_LOCK_SECONDS)
      if (begun.state === 'mismatch') throw errors.idempotencyMismatch()
      if (begun.state === 'in-flight') throw errors.idempotencyInFlight()
      if (begun.state === 'replay') return { outcome: begun.response.outcome ?? outcomeOfEarlierAnswer(begun.response), response: begun.response, replayed: true, fingerprint: print }
    }
    let result: IntakeResult
    try {
      // After the replay check: an answer already given is given again.
      deps.intake?.assertAccepted(client.id)
      result = await run()
    } catch (err) {
      // Anything transient frees the key for the caller's retry.
      if (key !== undefined) {
        if (isProvisioningError(err) && err.status === 422) {
          const problem = refusalSummary(problemBody(err))
          await idempotency.complete(client.id, key, print, answered({ kind: 'refused', problem }), idempotencyTtlSeconds)
        } else {
          await idempotency.abandon(client.id, key)
        }
      }
      throw err
    }
    const response = answered(result)
    if (key !== undefined) await idempotency.complete(client.id, key, print, response, idempotencyTtlSeconds)
    return { outcome: outcomeOf(result), response, replayed: false, fingerprint: print }
  }

  /** The HTTP layer's answer to a result, with the outcome it stands for. */
  function answered (result: IntakeResult): StoredResponse {
    return { ...deps.answers.answer(result), outcome: outcomeOf(result) }
  }

  /** The static checks (no upstream call); violations are a 422 and nothing is stored. */
  function checkedHire (client: AuthenticatedClient, body: NewHireBody, what: string): NewHireBody {
    const checked = deps.staticChecks(body, { client, maxGroupDepth: deps.config.maxGroupDepth })
    if (checked.issues.length > 0) {
      throw errors.policy(`The ${what} violates ${checked.issues.length} polic${checked.issues.length === 1 ? 'y' : 'ies'}; nothing was stored.`, checked.issues)
    }
    return checked.normalized
  }

  /** The desired state the registry records, or (for entries written before it did) the last request's. */
  async function recordedDesire (entry: WorkerEntry): Promise<NewHireBody | undefined> {
    if (entry.desired) return entry.desired
    const last = await requests.get(entry.lastRequestId)
    return last?.clientId === entry.clientId ? last.hire : undefined
  }

  return {
    /**
     * Validates statically (no upstream call), then stores and enqueues. With an
     * Idempotency-Key the outcome is remembered for the retention period and
     * replayed for the same body; another body under the same key is refused.
     */
    async accept (client: AuthenticatedClient, body: NewHireBody, idempotencyKey?: string, originRequestId?: string): Promise<AcceptResult> {
      return withIdempotency(client, idempotencyKey, fingerprint('POST', REQUESTS_PATH, body), async () => {
        const checked = checkedHire(client, body, 'new hire')
        return { kind: 'accepted', record: await createRecord(client, checked, originRequestId) }
      })
    },

    /**
     * A worker's desired state (PUT) or a merge patch of it (PATCH): compared
     * with the registry, it becomes a hire, update, move, termination or rehire
     * request (202), or no change (200 with the worker). Idempotency-Key as on intake.
     */
    async desire (client: AuthenticatedClient, hrId: string, change: { method: 'PUT', body: WorkerDesired } | { method: 'PATCH', body: WorkerPatch }, idempotencyKey?: string, originRequestId?: string, opts: DesireOptions = {}): Promise<AcceptResult> {
      const path = `${WORKERS_PATH}/${hrId}`
      return withIdempotency(client, idempotencyKey, fingerprint(change.method, path, change.body), async () => {
        const effectiveMs = effectiveOf(change.body.effectiveAt, deps.config.hrTimeZone ?? 'UTC')
        const scheduled = effectiveMs !== undefined && effectiveMs > clock.now()
        if (!scheduled) {
          // A change that runs now is derived from a settled worker: one in progress is finished
          // first (a termination and a rehire never interleave).
          const busy = await requests.activeFor(client.id, hrId)
          if (busy !== undefined) {
            throw errors.conflict(`Employee ${hrId} already has a provisioning request in progress (${busy}); send the change once it is finished.`, { headers: { location: `${REQUESTS_PATH}/${busy}` }, retryable: false })
          }
        }
        const entry = await deps.registry.get(client.id, hrId)
        const recorded = entry ? await recordedDesire(entry) : undefined
        const supersede = change.body.supersede === true
        // The worker's schedule matters to a scheduled change, a superseding one and a rehire only.
        let schedule: ProvisioningRecord[] | undefined
        const scheduledOnes = async () => (schedule ??= await requests.scheduledFor(client.id, hrId, MAX_SCHEDULED + 1))
        const pending = scheduled || supersede ? await scheduledOnes() : []
        // Scheduled changes this one replaces: those effective at its time or later (all, for a change that runs now).
        const superseded = !supersede ? [] : scheduled ? pending.filter((r) => Date.parse(r.effectiveAt ?? r.createdAt) >= effectiveMs) : pending
        if (scheduled && pending.length - superseded.length >= MAX_SCHEDULED) {
          throw errors.conflict(`Employee ${hrId} already has ${MAX_SCHEDULED} scheduled changes; cancel one, or send this one with "supersede": true.`, { retryable: false })
        }
        // What the worker will be when this change takes effect: its current state, or what the
        // last scheduled change before it leads to.
        const before = scheduled ? pending.filter((r) => !superseded.includes(r) && Date.parse(r.effectiveAt ?? r.createdAt) <= effectiveMs).at(-1) : undefined
        const base = before
          ? { exists: true, active: before.kind !== 'terminate', hire: before.hire as NewHireBody | undefined }
          : { exists: entry !== undefined, active: entry?.active ?? false, hire: recorded }
        let desire: Desire
        if (change.method === 'PUT') {
          desire = desireOfPut(hrId, change.body)
        } else {
          if (!base.exists) throw noWorker(hrId)
          // An entry older than desired states holds nothing to merge into.
          if (!base.hire) throw errors.conflict(`The service holds no desired state for HR id ${hrId} to merge into; send the whole worker with PUT.`, { retryable: false })
          desire = desireOfPatch({ hire: base.hire, active: base.active }, change.body)
        }
        if (!base.exists && desire.status === 'terminated') throw noWorker(hrId)
        // A termination keeps the worker's recorded state; everything else is checked like a new hire.
        const normalized = desire.status === 'terminated' && base.hire ? base.hire : checkedHire(client, desire.hire, 'worker')
        const derived = deriveChange(base.exists ? base : undefined, normalized, desire.status, base.hire)
        // A preview stops here: what the change would be, nothing stored.
        if (opts.dryRun === true) return { kind: 'preview', change: derived.change }
        if (derived.change === 'none') {
          await supersedeAll(superseded, undefined)
          if (!entry) throw noWorker(hrId)
          return { kind: 'unchanged', worker: entry, scheduled: await requests.scheduledFor(client.id, hrId, MAX_SCHEDULED) }
        }
        const record = await createRecord(client, normalized, originRequestId, {
          kind: derived.change,
          ...(entry ? { worker: entry } : {}),
          ...(scheduled ? { effectiveAt: new Date(effectiveMs).toISOString() } : {}),
          ...(opts.batchId !== undefined ? { batchId: opts.batchId } : {}),
        })
        await supersedeAll(superseded, record.id)
        // A rehire that runs now makes the worker's scheduled hard delete moot.
        if (derived.change === 'rehire' && !scheduled) {
          const by = record.id
          for (const r of await scheduledOnes()) if (r.hardDelete === true && !superseded.includes(r)) await cancelScheduled(r, `The worker was rehired (${by}).`)
        }
        return { kind: 'accepted', record }
      })
    },

    /**
     * Drift repair: a change back to the worker's recorded desired state (the
     * user patched back, lost grants and groups added again), braked like any
     * move. Its request id; undefined when there is nothing to restore from.
     */
    async restore (client: AuthenticatedClient, hrId: string, kind: 'update' | 'move'): Promise<string | undefined> {
      const entry = await deps.registry.get(client.id, hrId)
      if (!entry?.active || !entry.desired) return undefined
      return (await createRecord(client, entry.desired, undefined, { kind, worker: entry })).id
    },

    /** One managed worker of this client (404 for any other, indistinguishable from none). */
    async worker (client: AuthenticatedClient, hrId: string): Promise<WorkerEntry> {
      const entry = await deps.registry.get(client.id, hrId)
      if (!entry) throw noWorker(hrId)
      return entry
    },

    /** The client's scheduled changes for the HR id, in the order they take effect. */
    async scheduled (client: AuthenticatedClient, hrId: string): Promise<ProvisioningRecord[]> {
      return requests.scheduledFor(client.id, hrId, MAX_SCHEDULED)
    },

    /**
     * Starts the scheduled changes whose time has come, up to `limit`, earliest
     * first; answers how many started or ended. Safe on every replica at once:
     * taking a change out of the schedule is atomic.
     */
    async startDue (limit: number): Promise<number> {
      let started = 0
      for (const id of await requests.due(clock.now(), limit)) {
        const record = await requests.get(id)
        if (record?.status !== 'scheduled') continue
        if (await start(record)) started++
      }
      return started
    },

    async workers (client: AuthenticatedClient, query: WorkerListQuery) {
      if (query.cursor !== undefined && workerCursor.decode(query.cursor) === undefined) {
        throw errors.validation('The cursor is not one this API returned.', [{ code: 'cursor.invalid', path: '/query/cursor', message: 'unknown cursor' }])
      }
      return deps.registry.list(client.id, query)
    },

    /**
     * The answer to a body that failed its schema: the schema issues and, in the
     * same answer, the policy issues of the fields that did parse.
     */
    invalidBody (client: AuthenticatedClient, raw: unknown, schemaIssues: Issue[]): ProvisioningError {
      const policy = policyIssuesOfParsedFields(raw, schemaIssues, (hire) => deps.staticChecks(hire, { client, maxGroupDepth: deps.config.maxGroupDepth }).issues)
      const count = (n: number, what: string) => `${n} ${what} issue${n === 1 ? '' : 's'}`
      return errors.validation(`The request body is invalid (${count(schemaIssues.length, 'schema')}${policy.length > 0 ? `, ${count(policy.length, 'policy')}` : ''}); nothing was stored.`, [...schemaIssues, ...policy])
    },

    /**
     * Records the answer actually sent for a key after `Prefer: wait` (201,
     * 200, or a 202 with a later status), replacing the one stored at
     * acceptance, so a replay returns what the first call got.
     */
    async rememberSent (client: AuthenticatedClient, print: string, idempotencyKey: string, response: StoredResponse): Promise<void> {
      await idempotency.complete(client.id, idempotencyKey, print, response, idempotencyTtlSeconds)
    },

    async get (client: AuthenticatedClient, id: string): Promise<ProvisioningRecord> {
      const record = await requests.get(id)
      // Another client's request is indistinguishable from a missing one.
      if (!record || record.clientId !== client.id) throw errors.notFound(`No provisioning request ${id}.`)
      return record
    },

    async list (client: AuthenticatedClient, query: ListQuery) {
      if (query.cursor !== undefined && decodeCursor(query.cursor) === undefined) {
        throw errors.validation('The cursor is not one this API returned.', [{ code: 'cursor.invalid', path: '/query/cursor', message: 'unknown cursor' }])
      }
      return requests.list(client.id, query)
    },

    /** Withdraws a request that has not started (scheduled or held): it ends `cancelled` and frees its worker. */
    async cancel (client: AuthenticatedClient, id: string): Promise<ProvisioningRecord> {
      const record = await this.get(client, id)
      if (record.status === 'scheduled') {
        const cancelled = await cancelScheduled(record)
        if (cancelled) return cancelled
        throw errors.conflict(`${id} took effect meanwhile and can no longer be cancelled.`, { retryable: false })
      }
      if (record.status !== 'held') throw errors.conflict(`Only a request that has not started can be cancelled; ${id} is ${record.status}.`, { retryable: false })
      const cancelled = ended(record)
      await requests.save(cancelled)
      await cancelCompanion(record)
      return cancelled
    },

    /** Operators: releases one held termination or move (any client's). */
    async confirm (id: string): Promise<ProvisioningRecord> {
      const record = await requests.get(id)
      if (!record) throw errors.notFound(`No provisioning request ${id}.`)
      return release(record)
    },

    /** Operators: releases up to `limit` held requests of one client, oldest first; `more` when others remain. */
    async confirmHeld (clientId: string, limit: number): Promise<{ confirmed: string[], more: boolean }> {
      const held: ProvisioningRecord[] = []
      let cursor: string | undefined
      do {
        const page = await requests.list(clientId, { status: 'held', limit: 100, cursor })
        held.push(...page.items)
        cursor = page.nextCursor
      } while (cursor !== undefined && held.length <= limit)
      const oldest = held.sort((a, b) => a.createdAt.localeCompare(b.createdAt)).slice(0, limit)
      for (const record of oldest) await release(record)
      return { confirmed: oldest.map((r) => r.id), more: held.length > oldest.length }
    },

    /** Re-queues a failed request from where its ledger stopped. */
    async retry (client: AuthenticatedClient, id: string): Promise<ProvisioningRecord> {
      const record = await this.get(client, id)
      if (record.status !== 'failed') {
        throw errors.conflict(`Only failed requests can be retried; ${id} is ${record.status}.`, { retryable: false })
      }
      return resume(record)
    },

    /**
     * The operators' bulk retry: every failed (or rejected) request of the given
     * clients matching the filters is queued again, up to `limit`; `more` says
     * whether another call would find further ones. A request whose employee has
     * another request in progress is skipped and named.
     */
    async retryMatching (clientIds: readonly string[], filter: BulkRetryFilter, limit: number): Promise<BulkRetryResult> {
      const result: BulkRetryResult = { retried: [], skipped: [], more: false }
      for (const clientId of clientIds) {
        if (filter.clientId !== undefined && clientId !== filter.clientId) continue
        let cursor: string | undefined
        do {
          const page = await requests.list(clientId, { status: filter.status, createdAfter: filter.createdAfter, limit: 100, cursor })
          for (const record of page.items) {
            if (filter.code !== undefined && record.error?.code !== filter.code) continue
            if (result.retried.length + result.skipped.length >= limit) {
              result.more = true
              return result
            }
            try {
              await resume(record)
              result.retried.push({ id: record.id, clientId })
            } catch (err) {
              if (!isProvisioningError(err) || err.status !== 409) throw err
              result.skipped.push({ id: record.id, clientId, reason: err.message })
            }
          }
          cursor = page.nextCursor
        } while (cursor !== undefined)
      }
      return result
    },

    /**
     * Polls until the request is terminal or the time is up (Prefer: wait). A
     * scheduled or held request is answered at once: it waits for a time or a
     * person, not for the worker.
     */
    async waitForTerminal (id: string, seconds: number): Promise<ProvisioningRecord | undefined> {
      const deadline = clock.now() + seconds * 1000
      let delay = 25
      for (;;) {
        const record = await requests.get(id)
        if (!record || TERMINAL_STATUSES.has(record.status) || WAITING_STATUSES.has(record.status) || clock.now() >= deadline) return record
        await new Promise((resolve) => setTimeout(resolve, Math.min(delay, Math.max(1, deadline - clock.now()))))
        delay = Math.min(delay * 2, 250)
      }
    },
  }
}

export type ProvisioningService = ReturnType<typeof createProvisioningService>

/** A refusal kept under an Idempotency-Key keeps this many issues (the first answer listed them all). */
export const STORED_ISSUES = 10

/** What is kept of a refusal for its replays: small whatever the body was (a 64 KiB body can hold thousands of issues). */
function refusalSummary (body: ReturnType<typeof problemBody>): ReturnType<typeof problemBody> & { issuesTruncated?: number } {
  const issues = body.issues ?? []
  if (issues.length <= STORED_ISSUES) return body
  return { ...body, issues: issues.slice(0, STORED_ISSUES), issuesTruncated: issues.length - STORED_ISSUES }
}

/** What a result comes to. */
function outcomeOf (result: IntakeResult): IntakeOutcome {
  switch (result.kind) {
    case 'accepted': return { kind: 'accepted', requestId: result.record.id, change: result.record.kind ?? 'hire' }
    case 'unchanged': return { kind: 'unchanged' }
    case 'preview': return { kind: 'preview', change: result.change }
    case 'refused': return { kind: 'refused', issues: result.problem.issues ?? [] }
  }
}

const isChange = (v: unknown): v is RequestKind | 'none' => v === 'none' || (REQUEST_KINDS as readonly unknown[]).includes(v)

/**
 * What an answer kept by an earlier version came to (answers are kept with
 * their outcome since; these expire with the idempotency retention): read
 * from the answer itself.
 */
function outcomeOfEarlierAnswer (response: StoredResponse): IntakeOutcome {
  const body = (typeof response.body === 'object' && response.body !== null ? response.body : {}) as Record<string, unknown>
  if (response.status < 300 && typeof body.id === 'string' && body.id.startsWith('prq_')) {
    return { kind: 'accepted', requestId: body.id, change: isChange(body.kind) && body.kind !== 'none' ? body.kind : 'hire' }
  }
  if (response.status === 200 && isChange(body.change)) return { kind: 'preview', change: body.change }
  if (response.status === 200) return { kind: 'unchanged' }
  return { kind: 'refused', issues: Array.isArray(body.issues) ? body.issues as Issue[] : [] }
}

/** Another client's worker is indistinguishable from none. */
const noWorker = (hrId: string) => errors.notFound(`No managed worker with HR id ${hrId}.`)

/** Statuses that wait for a time or an operator rather than for the worker. */
const WAITING_STATUSES: ReadonlySet<RequestStatus> = new Set(['scheduled', 'held'])
const DAY_MS = 86_400_000
/** Scheduled changes one worker may have waiting. */
export const MAX_SCHEDULED = 20
/** A scheduled change whose worker is busy with another request tries again this much later. */
const BUSY_RETRY_MS = 2000

/** The instant of an `effectiveAt`, or a 422 naming it when it is no real date or date-time. */
function effectiveOf (value: string | undefined, timeZone: string): number | undefined {
  if (value === undefined) return undefined
  const ms = effectiveInstant(value, timeZone)
  if (ms === undefined) {
    throw errors.policy('effectiveAt is not a date-time; nothing was stored.', [{ code: 'effectiveAt.invalid', path: '/effectiveAt', message: `${value} is neither an RFC 3339 date-time with an offset (2027-01-04T09:00:00Z) nor a date (2027-01-04)` }])
  }
  return ms
}

/** Which user and division a request of this kind is about: a termination's is the worker's as registered. */
function subjectOf (kind: RequestKind, hire: NewHireBody, worker: WorkerEntry | undefined): Pick<ProvisioningRecord, 'division' | 'genesysUserId'> {
  if (kind === 'terminate' && worker) return { division: worker.divisionName, genesysUserId: worker.genesysUserId }
  return hire.division !== undefined ? { division: hire.division } : {}
}
