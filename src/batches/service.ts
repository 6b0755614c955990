import { createHash } from 'node:crypto'
import type { AuthenticatedClient } from '../config/clients.js'
import { errors, isProvisioningError, type Issue, type ProvisioningError } from '../errors.js'
import { fingerprint } from '../lib/canonical-json.js'
import { newId } from '../lib/ids.js'
import type { Clock } from '../lib/timers.js'
import { TERMINAL_STATUSES, type WorkerDesired } from '../provisioning/model.js'
import type { ProvisioningRecord, RequestStore } from '../provisioning/ports.js'
import type { AcceptResult, DesireOptions } from '../provisioning/service.js'
import type { Delivery } from '../webhooks/ports.js'
import type { BatchRecordResult, BatchStore, IntakeCounts, RunCounts, WorkerBatch } from './ports.js'

export const BATCHES_PATH = '/v1/worker-batches'

/** One record of a batch as the HTTP layer read it: a valid desired state, or the issues its schema check found. */
export type BatchEntry =
  | { index: number, hrId: string, desired: WorkerDesired }
  | { index: number, hrId?: string, issues: Issue[] }

/** Records taken in at once (each is a few store writes). */
const INTAKE_CONCURRENCY = 8
/** How long one intake holds its batch (1,000 records take a few seconds). */
const INTAKE_LEASE_MS = 120_000
/** How long an open batch the sweep found unfinished waits for its next check. */
export const RECHECK_MS = 60_000

/** The lifecycle call a batch record goes through: `PUT /v1/workers/{hrId}`'s use case. */
export type Desire = (client: AuthenticatedClient, hrId: string, change: { method: 'PUT', body: WorkerDesired }, idempotencyKey: string | undefined, originRequestId: string | undefined, opts: DesireOptions) => Promise<AcceptResult>

export interface BatchServiceDeps {
  store: BatchStore
  desire: Desire
  requests: Pick<RequestStore, 'get'>
  clock: Clock
  /** The webhook a completed batch owes (or undefined), written in the same step as its completion. */
  outbox?: (batch: WorkerBatch) => Delivery | undefined
  /** Called once a batch completed (hands its webhook to the queue). */
  onCompleted?: (batch: WorkerBatch) => Promise<void> | void
}

/**
 * Worker batches: many desired states in one call, each record taken in on its
 * own through the lifecycle (`PUT /v1/workers/{hrId}`), so one bad record never
 * fails the others. With an Idempotency-Key the batch id and each record's own
 * key derive from it: a retry after a crash finishes the same batch, and a
 * record taken in already answers as it did.
 */
export function createBatchService (deps: BatchServiceDeps) {
  const { store, clock } = deps
  const iso = () => new Date(clock.now()).toISOString()

  async function intakeOne (client: AuthenticatedClient, batch: WorkerBatch, e: BatchEntry, originRequestId: string | undefined): Promise<BatchRecordResult> {
    const head = { index: e.index, ...(e.hrId !== undefined ? { hrId: e.hrId } : {}) }
    if ('issues' in e) return { ...head, outcome: 'rejected', issues: e.issues }
    try {
      const key = batch.keyed ? `${batch.id}#${e.index}` : undefined
      const r = await deps.desire(client, e.hrId, { method: 'PUT', body: e.desired }, key, originRequestId, { batchId: batch.id, dryRun: batch.dryRun })
      const o = r.outcome
      switch (o.kind) {
        case 'preview': return { ...head, outcome: o.change === 'none' ? 'unchanged' : 'planned', change: o.change }
        case 'accepted': return { ...head, outcome: 'accepted', change: o.change, requestId: o.requestId }
        case 'unchanged': return { ...head, outcome: 'unchanged', change: 'none' }
        // A refusal replayed under the record's key.
        case 'refused': return { ...head, outcome: 'rejected', issues: within(e.index, o.issues.length > 0 ? o.issues : [{ code: 'record.refused', path: '', message: 'refused' }]) }
      }
    } catch (err) {
      if (isProvisioningError(err) && err.status < 500) return { ...head, outcome: 'rejected', issues: issuesOf(err, e.index) }
      throw err
    }
  }

  function countsOf (results: readonly BatchRecordResult[]): IntakeCounts {
    const counts: IntakeCounts = { accepted: 0, unchanged: 0, rejected: 0, planned: 0 }
    for (const r of results) counts[r.outcome]++
    return counts
  }

  /** Where the batch's requests are now (read live). */
  async function runCounts (batch: WorkerBatch): Promise<{ counts: RunCounts, statuses: Map<string, ProvisioningRecord['status']> }> {
    const statuses = new Map<string, ProvisioningRecord['status']>()
    const ids = batch.results.flatMap((r) => (r.requestId !== undefined ? [r.requestId] : []))
    for (let i = 0; i < ids.length; i += 100) {
      await Promise.all(ids.slice(i, i + 100).map(async (id) => {
        const r = await deps.requests.get(id)
        if (r) statuses.set(id, r.status)
      }))
    }
    const counts: RunCounts = { completed: 0, failed: 0, pending: 0 }
    for (const id of ids) {
      const status = statuses.get(id)
      // A request gone from the store (past its retention) is over; it cannot be told which way.
      if (status === 'completed') counts.completed++
      else if (status === undefined || TERMINAL_STATUSES.has(status)) counts.failed++
      else counts.pending++
    }
    return { counts, statuses }
  }

  /** Completes the batch when every accepted request is terminal; true when this call completed it. */
  async function completeIfDone (batch: WorkerBatch): Promise<boolean> {
    if (batch.status !== 'accepted') return false
    const { counts, statuses } = await runCounts(batch)
    if (counts.pending > 0) {
      // Requests that ended before the batch was open to notices are recorded now, so the last notice finds the count full.
      await store.settle(batch.id, [...statuses].flatMap(([id, status]) => (TERMINAL_STATUSES.has(status) ? [id] : [])))
      return false
    }
    const now = iso()
    const done: WorkerBatch = { ...batch, status: 'completed', completedAt: now, updatedAt: now, finalCounts: counts }
    const delivery = deps.outbox?.(done)
    const completed = delivery ? { ...done, webhookId: delivery.id } : done
    if (!(await store.complete(completed, delivery))) return false
    await deps.onCompleted?.(completed)
    return true
  }

  async function intake (client: AuthenticatedClient, batch: WorkerBatch, entries: readonly BatchEntry[], originRequestId: string | undefined): Promise<WorkerBatch> {
    const results: BatchRecordResult[] = []
    for (let i = 0; i < entries.length; i += INTAKE_CONCURRENCY) {
      results.push(...await Promise.all(entries.slice(i, i + INTAKE_CONCURRENCY).map((e) => intakeOne(client, batch, e, originRequestId))))
    }
    const accepted: WorkerBatch = { ...batch, status: 'accepted', results, counts: countsOf(results), updatedAt: iso() }
    await store.save(accepted)
    // Nothing to wait for (a dry run, or every record unchanged or rejected), or every request already ended.
    await completeIfDone(accepted)
    return (await store.get(batch.id)) ?? accepted
  }

  return {
    /**
     * Takes a batch in: 202 with the batch resource once every record has its
     * outcome. A reused Idempotency-Key answers the same batch (finishing its
     * intake if a crash interrupted it); with another body it is refused.
     */
    async accept (client: AuthenticatedClient, entries: readonly BatchEntry[], opts: { dryRun: boolean, idempotencyKey?: string, body: unknown, originRequestId?: string }): Promise<{ batch: WorkerBatch, replayed: boolean }> {
      const print = fingerprint('POST', BATCHES_PATH, opts.body)
      const now = iso()
      const id = opts.idempotencyKey === undefined ? newId('wbt', clock.now()) : keyedId(client.id, opts.idempotencyKey)
      const fresh: WorkerBatch = {
        id,
        clientId: client.id,
        dryRun: opts.dryRun,
        status: 'accepting',
        fingerprint: print,
        keyed: opts.idempotencyKey !== undefined,
        createdAt: now,
        updatedAt: now,
        total: entries.length,
        counts: { accepted: 0, unchanged: 0, rejected: 0, planned: 0 },
        results: [],
        ...(opts.originRequestId !== undefined ? { originRequestId: opts.originRequestId } : {}),
      }
      // One intake per batch at a time: a concurrent retry under the same key waits its turn (409).
      if (!(await store.lease(id, INTAKE_LEASE_MS))) throw errors.idempotencyInFlight()
      try {
        if (await store.insert(fresh)) return { batch: await intake(client, fresh, entries, opts.originRequestId), replayed: false }
        const existing = await store.get(id)
        if (!existing || existing.clientId !== client.id) throw errors.internal(`worker batch ${id} vanished while it was looked up`)
        if (existing.fingerprint !== print) throw errors.idempotencyMismatch()
        // An intake a crash interrupted is finished; each record taken in already answers as it did.
        if (existing.status === 'accepting') return { batch: await intake(client, existing, entries, opts.originRequestId), replayed: true }
        return { batch: existing, replayed: true }
      } finally {
        await store.release(id)
      }
    },

    /** One of this client's batches (404 for any other, indistinguishable from none). */
    async get (client: AuthenticatedClient, id: string): Promise<WorkerBatch> {
      const batch = await store.get(id)
      if (!batch || batch.clientId !== client.id) throw errors.notFound(`No worker batch ${id}.`)
      return batch
    },

    /** The batch with its run counts (live until it completed) and one page of its records, each with its request's status. */
    async view (batch: WorkerBatch, page: { limit: number, cursor?: string }) {
      const from = page.cursor === undefined ? 0 : decodeResultCursor(batch.id, page.cursor)
      if (from === undefined) throw errors.validation('The cursor is not one this batch handed out.', [{ code: 'cursor.invalid', path: '/query/cursor', message: 'use the nextCursor of a page of this batch' }])
      const live = batch.finalCounts === undefined ? await runCounts(batch) : undefined
      const slice = batch.results.slice(from, from + page.limit)
      const statuses = live?.statuses ?? new Map(await Promise.all(slice.flatMap((r) => (r.requestId !== undefined ? [r.requestId] : [])).map(async (rid) => [rid, (await deps.requests.get(rid))?.status] as const)))
      const next = from + page.limit < batch.results.length ? encodeResultCursor(batch.id, from + page.limit) : undefined
      return {
        batch,
        runCounts: batch.finalCounts ?? live?.counts ?? { completed: 0, failed: 0, pending: 0 },
        results: slice.map((r) => {
          const status = r.requestId === undefined ? undefined : statuses.get(r.requestId)
          return status === undefined ? r : { ...r, requestStatus: status }
        }),
        ...(next !== undefined ? { nextCursor: next } : {}),
      }
    },

    /** A batch request reached a terminal state: the batch completes with its last one. */
    async settle (record: Pick<ProvisioningRecord, 'id' | 'batchId'>): Promise<void> {
      if (record.batchId === undefined) return
      const batch = await store.get(record.batchId)
      if (!batch || batch.status !== 'accepted') return
      const settled = await store.settle(batch.id, [record.id])
      if (settled >= batch.counts.accepted) await completeIfDone(batch)
    },

    /**
     * Completes open batches whose requests all ended (a terminal state whose
     * notice was lost in a crash is found here); how many it completed.
     */
    async sweep (limit: number): Promise<number> {
      let completed = 0
      for (const id of await store.open(limit, clock.now())) {
        const batch = await store.get(id)
        if (!batch) await store.forget(id)
        else if (await completeIfDone(batch)) completed++
        // Checked again later, after the others due: a batch waiting for scheduled changes never blocks the sweep.
        else await store.recheck(id, clock.now() + RECHECK_MS)
      }
      return completed
    },
  }
}

export type BatchService = ReturnType<typeof createBatchService>

/** The issues of a record's refusal: its own issues, or one naming why (a request in progress, a missing worker). */
function issuesOf (err: ProvisioningError, index: number): Issue[] {
  if (err.issues && err.issues.length > 0) return within(index, err.issues)
  const code = err.code === 'PROV_ERR_CONFLICT' ? 'worker.busy' : err.code === 'PROV_ERR_NOT_FOUND' ? 'worker.notFound' : `record.${err.code.replace(/^PROV_ERR_/, '').toLowerCase()}`
  return within(index, [{ code, path: '', message: err.message }])
}

/** Issue paths of one record, made to point into the batch body. */
function within (index: number, issues: readonly Issue[]): Issue[] {
  return issues.map((i) => ({ ...i, path: `/workers/${index}${i.path === '/' ? '' : i.path}` }))
}

/** A batch id derived from the client and its Idempotency-Key: a retry finds the batch it started. */
function keyedId (clientId: string, key: string): string {
  return `wbt_${createHash('sha256').update(`${clientId}\n${key}`).digest('base64url').slice(0, 26)}`
}

function encodeResultCursor (batchId: string, from: number): string {
  return Buffer.from(`${batchId}|${from}`, 'utf8').toString('base64url')
}

function decodeResultCursor (batchId: string, cursor: string): number | undefined {
  const [id, from, ...rest] = Buffer.from(cursor, 'base64url').toString('utf8').split('|')
  const n = Number(from)
  return rest.length === 0 && id === batchId && Number.isInteger(n) && n >= 0 ? n : undefined
}
