import type { FastifyBaseLogger } from 'fastify'
import { isProvisioningError } from '../errors.js'
import type { GenesysClient } from '../genesys/client.js'
import { isGenesysError, isNotFound, isUniquenessConflict, type GenesysError } from '../genesys/errors.js'
import { JobFailed, QueueRateLimited, RetryLater, type Job } from '../jobs/queue.js'
import type { PermissionPattern } from '../pipeline/permissions.js'
import { buildPlan, upstreamIssues } from '../pipeline/upstream-checks.js'
import { createGroupMembership, type GroupMembership } from './group-membership.js'
import type { Delivery } from '../webhooks/ports.js'
import { gatherFacts, type Directory, type GroupResolver, type ReferenceCache } from './facts.js'
import { TERMINAL_STATUSES, type Clock, type EmailReservations, type ProvisioningRecord, type RequestStatus, type RequestStore, type StepRecord } from './ports.js'

export interface ProvisioningJob {
  requestId: string
}

/** The Genesys operations the steps use: reads from validation plus the three writes. */
export type Provisioner = Directory & {
  users: Pick<GenesysClient['users'], 'findByUserName' | 'findByExternalId' | 'create'>
  groups: Pick<GenesysClient['groups'], 'findByDisplayName' | 'get' | 'patchMembers'>
  grants: Pick<GenesysClient['grants'], 'bulkAdd'>
}

export interface WorkerDeps {
  requests: RequestStore
  reservations: EmailReservations
  genesys: Provisioner
  groups: GroupResolver
  cache: ReferenceCache
  clock: Clock
  logger: FastifyBaseLogger
  policy: { denied: readonly PermissionPattern[] }
  emailReservationSeconds: number
  /**
   * The webhook a terminal record owes (or undefined); it is written in the same
   * atomic step as the terminal state, so a crash cannot lose it.
   */
  outbox?: (record: ProvisioningRecord) => Delivery | undefined
  /** Called once a request reaches a terminal state, after it was saved (hands its webhook to the queue). */
  onTerminal?: (record: ProvisioningRecord) => Promise<void> | void
  /** Coalesces group adds per group; one per process is shared by all jobs. */
  membership?: GroupMembership
}


/**
 * The provisioning job. At-least-once: it may run again after a crash at any
 * point, so it reads the ledger first, skips finished steps, writes each step's
 * outcome before starting the next, and never creates a user without first
 * looking for one carrying this HR id.
 */
export function createProvisioningWorker (deps: WorkerDeps) {
  const { requests, genesys, clock } = deps
  const iso = () => new Date(clock.now()).toISOString()
  const membership = deps.membership ?? createGroupMembership(genesys.groups)

  function move (record: ProvisioningRecord, status: RequestStatus, patch: Partial<ProvisioningRecord> = {}): ProvisioningRecord {
    const at = iso()
    return {
      ...record,
      ...patch,
      status,
      updatedAt: at,
      transitions: record.status === status ? record.transitions : [...record.transitions, { status, at }],
    }
  }

  async function finish (record: ProvisioningRecord): Promise<void> {
    const delivery = deps.outbox?.(record)
    if (delivery) record = { ...record, webhookId: delivery.id }
    await requests.save(record, delivery)
    await deps.reservations.release(record.email, record.id)
    deps.logger.info({ provisioningId: record.id, ...(record.originRequestId !== undefined ? { requestId: record.originRequestId } : {}), status: record.status, genesysUserId: record.genesysUserId }, 'provisioning request finished')
    try {
      await deps.onTerminal?.(record)
    } catch (err) {
      // The outcome is saved and its webhook is in the outbox; the relay's sweep
      // hands it on. A listener's failure must never turn into a failed request.
      deps.logger.warn({ provisioningId: record.id, err: safeErr(err) }, 'terminal-state listener failed')
    }
  }

  async function validate (record: ProvisioningRecord): Promise<ProvisioningRecord | undefined> {
    record = move(record, 'validating')
    await requests.save(record)
    const holder = await deps.reservations.reserve(record.email, record.id, deps.emailReservationSeconds)
    const facts = await gatherFacts(record.hire, {
      directory: genesys,
      groups: deps.groups,
      cache: deps.cache,
      reservedBy: async () => (holder === record.id ? undefined : holder),
    })
    const issues = upstreamIssues(record.hire, facts, deps.policy)
    if (issues.length > 0) {
      await finish(move(record, 'rejected', { issues }))
      return undefined
    }
    record = move(record, 'provisioning', { plan: buildPlan(record.hire, facts), ...(facts.division.found ? { division: facts.division.found.name } : {}) })
    await requests.save(record)
    return record
  }

  async function step (record: ProvisioningRecord, name: StepRecord['name'], run: () => Promise<{ status: StepRecord['status'], detail: Record<string, unknown> }>): Promise<ProvisioningRecord> {
    if (record.steps.some((s) => s.name === name)) return record
    const started = clock.now()
    const outcome = await run()
    const next: ProvisioningRecord = {
      ...record,
      updatedAt: iso(),
      steps: [...record.steps, { name, status: outcome.status, at: iso(), durationMs: clock.now() - started, detail: outcome.detail }],
    }
    // The ledger entry lands before the next step starts: a re-run resumes here.
    await requests.save(next)
    return next
  }

  async function createUser (record: ProvisioningRecord): Promise<{ status: 'done', detail: Record<string, unknown> }> {
    const plan = record.plan
    if (!plan) throw new Error(`request ${record.id} reached provisioning without a plan`)
    const existing = await genesys.users.findByExternalId(record.hrId)
    if (existing.length > 1) {
      throw new JobFailed(`Genesys has ${existing.length} users with externalId ${record.hrId}: ${existing.map((u) => u.id).join(', ')}; resolve the duplicate by hand`)
    }
    if (existing[0]) return { status: 'done', detail: { userId: existing[0].id, adopted: true } }
    try {
      const created = await genesys.users.create(plan.scimUser)
      return { status: 'done', detail: { userId: created.resource.id, adopted: false } }
    } catch (err) {
      if (!isUniquenessConflict(err)) throw err
      // 409 is the final word on uniqueness: adopt only a user that carries our HR id.
      const owner = await genesys.users.findByUserName(record.email)
      if (owner?.externalId === record.hrId) return { status: 'done', detail: { userId: owner.id, adopted: true } }
      if (!owner) {
        // A lost response, read back before the write is visible: look again later.
        throw new RetryLater(`userName ${record.email} is taken but its owner is not visible yet`, 2000, { cause: err })
      }
      throw new ConflictWithUser(owner.id, record.email)
    }
  }

  async function joinGroups (record: ProvisioningRecord, userId: string): Promise<{ status: StepRecord['status'], detail: Record<string, unknown> }> {
    const groups = record.plan?.groups ?? []
    if (groups.length === 0) return { status: 'skipped', detail: {} }
    // Idempotent: a user who is already a member is left as is.
    await Promise.all(groups.map((g) => membership.add(g.groupId, userId)))
    return { status: 'done', detail: { groupIds: groups.map((g) => g.groupId) } }
  }

  async function provision (record: ProvisioningRecord): Promise<void> {
    record = await step(record, 'createUser', () => createUser(record))
    const userId = String(record.steps.find((s) => s.name === 'createUser')?.detail.userId)
    record = { ...record, genesysUserId: userId }
    const grants = record.plan?.grants ?? []
    record = await step(record, 'grantRoles', async () => {
      if (grants.length === 0) return { status: 'skipped', detail: {} }
      await withFreshIdRetry(deps.cache, () => genesys.grants.bulkAdd(userId, grants.map((g) => ({ roleId: g.roleId, divisionId: g.divisionId }))))
      return { status: 'done', detail: { grants: grants.map((g) => ({ roleId: g.roleId, divisionId: g.divisionId })) } }
    })
    record = await step(record, 'joinGroups', () => withFreshIdRetry(deps.cache, () => joinGroups(record, userId)))
    await finish(move(record, 'completed'))
  }

  async function fail (record: ProvisioningRecord, err: unknown): Promise<void> {
    const g = isGenesysError(err) ? err : undefined
    const error = {
      code: err instanceof ConflictWithUser ? 'PROV_ERR_CONFLICT' : isProvisioningError(err) ? err.code : 'PROV_ERR_INTERNAL',
      message: err instanceof Error ? err.message : String(err),
      ...(g?.genesysCode !== undefined ? { genesysCode: g.genesysCode } : {}),
      ...(g?.correlationId !== undefined ? { correlationId: g.correlationId } : {}),
    }
    await finish(move(record, 'failed', { error }))
  }

  return async function handle (job: Job<ProvisioningJob>): Promise<void> {
    const loaded = await requests.get(job.data.requestId)
    if (!loaded || TERMINAL_STATUSES.has(loaded.status)) return
    let record: ProvisioningRecord | undefined = { ...loaded, attempts: loaded.attempts + 1 }
    const log = deps.logger.child({ provisioningId: record.id, attempt: job.attempt, ...(record.originRequestId !== undefined ? { requestId: record.originRequestId } : {}) })
    try {
      if (record.status === 'accepted' || record.status === 'validating') {
        record = await validate(record)
        if (!record) return
      }
      await provision(record)
    } catch (err) {
      const latest = (await requests.get(loaded.id)) ?? record ?? loaded
      const retryable = isRetryable(err)
      if (!retryable || job.attempt >= job.maxAttempts) {
        log.warn({ err: safeErr(err) }, 'provisioning request failed')
        await fail({ ...latest, attempts: record?.attempts ?? latest.attempts }, err)
        throw new JobFailed(err instanceof Error ? err.message : String(err), { cause: err })
      }
      await requests.save({ ...latest, attempts: record?.attempts ?? latest.attempts, updatedAt: iso() })
      log.info({ err: safeErr(err) }, 'provisioning attempt failed; will retry')
      if (isGenesysError(err) && err.upstreamStatus === 429) {
        throw new QueueRateLimited(err.retryAfterMs ?? 1000)
      }
      throw new RetryLater(err instanceof Error ? err.message : String(err), retryDelay(err), { cause: err })
    }
  }
}

/** The existing user holds the email with another HR id: a person must decide. */
class ConflictWithUser extends Error {
  constructor (readonly userId: string, email: string) {
    super(`${email} already belongs to Genesys user ${userId}, which has a different HR id; not adopted`)
    this.name = 'ConflictWithUser'
  }
}

/**
 * A fresh user id can 404 on other APIs for a while (eventual consistency):
 * that is worth a retry. A role or group id from the reference cache can 404
 * too (deleted upstream): the cache is dropped so later hires look again.
 */
async function withFreshIdRetry<T> (cache: Pick<ReferenceCache, 'clear'>, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (err) {
    if (isNotFound(err)) {
      cache.clear()
      throw new RetryLater('a resource is not visible (a just-created user, or a role or group deleted upstream)', 2000, { cause: err })
    }
    throw err
  }
}

/**
 * Refused Genesys credentials are the operator's to fix, usually within
 * minutes: accepted work waits for them (with backoff, at least this long
 * between attempts) instead of failing at its first attempt.
 */
export const CREDENTIALS_RETRY_MS = 30_000

function refusedCredentials (err: unknown): boolean {
  return isGenesysError(err) && err.failure === 'credentials'
}

function isRetryable (err: unknown): boolean {
  if (err instanceof RetryLater) return true
  if (refusedCredentials(err)) return true
  if (err instanceof JobFailed || err instanceof ConflictWithUser) return false
  if (isProvisioningError(err)) return err.retryable
  return true
}

function retryDelay (err: unknown): number {
  if (err instanceof RetryLater) return err.delayMs
  if (refusedCredentials(err)) return CREDENTIALS_RETRY_MS
  return isGenesysError(err) ? (err as GenesysError).retryAfterMs ?? 0 : 0
}

/** Error fields for logs: Genesys errors carry their own safe summary. */
function safeErr (err: unknown): unknown {
  if (isGenesysError(err)) return err.toJSON()
  return err instanceof Error ? { name: err.name, message: err.message } : err
}
