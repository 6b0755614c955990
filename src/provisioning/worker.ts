import type { FastifyBaseLogger } from 'fastify'
import type { ApiClient } from '../config/clients.js'
import { isProvisioningError, type Issue } from '../errors.js'
import type { GenesysClient } from '../genesys/client.js'
import { isGenesysError, isNotFound, isVersionConflict, type GenesysError } from '../genesys/errors.js'
import type { ScimUser } from '../genesys/types.js'
import { JobFailed, JobDeferred, RetryLater, type Job } from '../jobs/queue.js'
import type { PermissionPattern } from './checks/permissions.js'
import { buildPlan, upstreamIssues } from './checks/upstream-checks.js'
import { createGroupMembership, type GroupMembership } from './group-membership.js'
import { createRoleGrants, type RoleGrants } from './role-grants.js'
import { userPatch } from './user-changes.js'
import type { Delivery } from '../webhooks/ports.js'
import { candidateOf, divisionIdsOf, gatherFacts, userCandidates, requesterOf, type Directory, type GroupResolver, type ReferenceCache, type Requester } from './facts.js'
import { adoptionVerdict, OwnedElsewhere, type OwnershipContext, type WorkerEntry, type WorkerRegistry } from './registry.js'
import { type EmailReservations, type ProvisioningRecord, type RequestStore, type StepRecord } from './ports.js'
import { TERMINAL_STATUSES, type RequestStatus } from './model.js'
import type { Clock } from '../lib/timers.js'

export interface ProvisioningJob {
  requestId: string
}

/** The Genesys operations the steps use: reads from validation plus the writes. */
export type Provisioner = Directory & {
  users: Pick<GenesysClient['users'], 'findByUserName' | 'findByExternalId' | 'get' | 'create' | 'patch' | 'remove'>
  groups: Pick<GenesysClient['groups'], 'findByDisplayName' | 'get' | 'patchMembers'>
  grants: Pick<GenesysClient['grants'], 'bulkAdd' | 'roleToUsers' | 'remove'>
}

export interface WorkerDeps {
  requests: RequestStore
  reservations: EmailReservations
  /** Claims on Genesys externalIds across clients, held like email reservations. */
  externalIds: EmailReservations
  registry: Pick<WorkerRegistry, 'get' | 'ownerOf'>
  /** The API clients, for their namespaces and divisions. */
  clients: { get (id: string): Pick<ApiClient, 'id' | 'divisions' | 'externalIdPrefix' | 'groupFallback'> | undefined }
  /**
   * How a request's API client reaches Genesys: its own OAuth client's
   * operations (reads included) and the lookups made through them.
   */
  genesysFor (apiClientId: string): TenantGenesys
  clock: Clock
  logger: FastifyBaseLogger
  policy: { denied: readonly PermissionPattern[] }
  /**
   * Most jobs of one OAuth client this process runs at once (absent: no cap).
   * Past it a job is deferred, so one tenant's backlog, paced by its own budget,
   * leaves slots for the others.
   */
  slotsPerTenant?: number
  /**
   * Most jobs of an API client this process runs at once (undefined: no cap).
   * Tenants sharing an OAuth client share its budget, and a job books its
   * calls in it: one tenant's bulk load held to a share leaves slots, and the
   * budget's near future, for the others. Terminations are never deferred by it.
   */
  slotsPerClient?: (apiClientId: string) => number | undefined
  /** Test-only: `skipDivisionCheck` leaves the division to Genesys' own permissions. */
  faults?: { skipDivisionCheck: boolean }
  emailReservationSeconds: number
  /**
   * The webhook a terminal record owes (or undefined); it is written in the same
   * atomic step as the terminal state, so a crash cannot lose it.
   */
  outbox?: (record: ProvisioningRecord) => Delivery | undefined
  /** Called once a request reaches a terminal state, after it was saved (hands its webhook to the queue). */
  onTerminal?: (record: ProvisioningRecord) => Promise<void> | void
}

/** One OAuth client's view of Genesys: what it may read and write, and what it found by name. */
export interface TenantGenesys {
  genesys: Provisioner
  groups: GroupResolver
  cache: ReferenceCache
}


/**
 * The provisioning job. At-least-once: it may run again after a crash at any
 * point, so it reads the ledger first, skips finished steps, writes each step's
 * outcome before starting the next, and never creates a user without first
 * looking for one carrying this HR id.
 */
export function createProvisioningWorker (deps: WorkerDeps) {
  const { requests, clock } = deps
  const iso = () => new Date(clock.now()).toISOString()
  // Jobs running in this process per OAuth client (for `slotsPerTenant`) and per API client (for `slotsPerClient`).
  const tenantSlots = createSlots<TenantGenesys>()
  const clientSlots = createSlots<string>()
  // Group changes are coalesced per group, per OAuth client (each batch goes out with one token).
  const memberships = new WeakMap<Provisioner['groups'], GroupMembership>()
  const membershipOf = (t: TenantGenesys): GroupMembership => {
    let m = memberships.get(t.genesys.groups)
    if (!m) memberships.set(t.genesys.groups, m = createGroupMembership(t.genesys.groups))
    return m
  }
  // Role grants are coalesced per grant set, per OAuth client, likewise.
  const roleGrants = new WeakMap<Provisioner['grants'], RoleGrants>()
  const roleGrantsOf = (t: TenantGenesys): RoleGrants => {
    let g = roleGrants.get(t.genesys.grants)
    if (!g) roleGrants.set(t.genesys.grants, g = createRoleGrants(t.genesys.grants))
    return g
  }

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

  function requesterFor (record: ProvisioningRecord): Requester {
    const client = deps.clients.get(record.clientId)
    // A client removed from the clients file has no namespace or divisions left.
    if (!client) throw new JobFailed(`API client ${record.clientId} is no longer configured`)
    return requesterOf(client)
  }

  const externalIdOf = (record: ProvisioningRecord) => record.externalId ?? requesterFor(record).externalIdOf(record.hrId)

  async function finish (record: ProvisioningRecord): Promise<void> {
    const delivery = deps.outbox?.(record)
    if (delivery) record = { ...record, webhookId: delivery.id }
    await requests.save(record, delivery)
    await deps.reservations.release(record.email, record.id)
    await deps.externalIds.release(externalIdOf(record), record.id)
    deps.logger.info({ provisioningId: record.id, ...(record.originRequestId !== undefined ? { requestId: record.originRequestId } : {}), status: record.status, genesysUserId: record.genesysUserId }, 'provisioning request finished')
    try {
      await deps.onTerminal?.(record)
    } catch (err) {
      // The outcome is saved and its webhook is in the outbox; the relay's sweep
      // hands it on. A listener's failure must never turn into a failed request.
      deps.logger.warn({ provisioningId: record.id, err: safeErr(err) }, 'terminal-state listener failed')
    }
  }

  async function validate (t: TenantGenesys, record: ProvisioningRecord): Promise<ProvisioningRecord | undefined> {
    const requester = requesterFor(record)
    record = move(record, 'validating', { externalId: externalIdOf(record) })
    await requests.save(record)
    const [holder, externalIdHolder] = await Promise.all([
      deps.reservations.reserve(record.email, record.id, deps.emailReservationSeconds),
      deps.externalIds.reserve(externalIdOf(record), record.id, deps.emailReservationSeconds),
    ])
    const sources = {
      directory: t.genesys,
      groups: t.groups,
      cache: t.cache,
      registry: deps.registry,
      requester,
      reservedBy: async () => (holder === record.id ? undefined : holder),
      externalIdReservedBy: async () => (externalIdHolder === record.id ? undefined : externalIdHolder),
    }
    // A first attempt does not look up who holds the email or externalId: the create's 409 is the
    // final word on uniqueness. A request refused for other reasons still lists every reason.
    const lookUp = !firstAttempt(record)
    let facts = await gatherFacts(record.hire, sources, { users: lookUp })
    const issuesOf = () => upstreamIssues(record.hire, facts, deps.policy).filter((i) => !(deps.faults?.skipDivisionCheck === true && i.code === 'division.notAllowed'))
    let issues = issuesOf()
    if (issues.length > 0 && !lookUp) {
      facts = { ...facts, candidates: await userCandidates(record.hire, sources) }
      issues = issuesOf()
    }
    if (issues.length > 0) {
      await finish(move(record, 'rejected', { issues }))
      return undefined
    }
    record = move(record, 'provisioning', { plan: buildPlan(record.hire, facts), ...(facts.division.found ? { division: facts.division.found.name } : {}) })
    await requests.save(record)
    return record
  }

  type StepOutcome = { status: StepRecord['status'], detail: Record<string, unknown>, worker?: WorkerEntry }

  async function step (record: ProvisioningRecord, name: StepRecord['name'], run: () => Promise<StepOutcome>): Promise<ProvisioningRecord> {
    if (record.steps.some((s) => s.name === name)) return record
    const started = clock.now()
    const outcome = await run()
    const next: ProvisioningRecord = {
      ...record,
      updatedAt: iso(),
      steps: [...record.steps, { name, status: outcome.status, at: iso(), durationMs: clock.now() - started, detail: outcome.detail }],
    }
    // The ledger entry (and the registry entry it proves) lands before the next
    // step starts: a re-run resumes here.
    try {
      await requests.save(next, undefined, outcome.worker)
    } catch (err) {
      if (err instanceof OwnedElsewhere) throw new Refusal([{ code: 'hrId.taken', path: '/hrId', message: `HR id ${record.hrId} belongs to a Genesys user this client does not manage` }])
      throw err
    }
    return next
  }

  /** A registry entry for the request's user; what an earlier entry of the same user recorded is kept. */
  function entryFor (record: ProvisioningRecord, userId: string, origin: WorkerEntry['origin'], managed?: WorkerEntry): WorkerEntry {
    const plan = record.plan
    const same = managed?.genesysUserId === userId ? managed : undefined
    return {
      clientId: record.clientId,
      hrId: record.hrId,
      externalId: externalIdOf(record),
      genesysUserId: userId,
      divisionId: plan?.division?.id ?? plan?.grants[0]?.divisionId ?? same?.divisionId ?? '',
      divisionName: plan?.division?.name ?? plan?.grants[0]?.divisionName ?? same?.divisionName ?? '',
      grants: same?.grants ?? [],
      groups: same?.groups ?? [],
      active: true,
      origin: same?.origin ?? origin,
      desired: record.hire,
      lastRequestId: record.id,
      updatedAt: iso(),
    }
  }

  /** The registry entry after a step, starting from what the registry holds. */
  async function entryAfter (record: ProvisioningRecord, change: (e: WorkerEntry) => WorkerEntry): Promise<WorkerEntry> {
    const userId = record.genesysUserId ?? ''
    const current = await deps.registry.get(record.clientId, record.hrId)
    // A request whose user step was recorded before the registry existed gets its entry now.
    const base = current?.genesysUserId === userId ? current : entryFor(record, userId, 'created', current)
    return { ...change(base), ...(record.kind === 'terminate' ? {} : { desired: record.hire }), lastRequestId: record.id, updatedAt: iso() }
  }

  async function ownershipOf (t: TenantGenesys, record: ProvisioningRecord): Promise<Omit<OwnershipContext, 'owner'>> {
    return {
      clientId: record.clientId,
      hrId: record.hrId,
      externalId: externalIdOf(record),
      email: record.email,
      divisionIds: await divisionIdsOf({ directory: t.genesys, cache: t.cache }, requesterFor(record).divisions),
    }
  }

  /**
   * The user this request provisions: the one the registry records for this
   * (client, HR id) if it still exists; else one found by this client's
   * externalId or by the create's 409 that passes the ownership proof; else a
   * new one. An inactive owned user is reactivated (a rehire).
   */
  async function createUser (t: TenantGenesys, record: ProvisioningRecord, job: Job<ProvisioningJob>): Promise<StepOutcome> {
    const plan = record.plan
    if (!plan) throw new Error(`request ${record.id} reached provisioning without a plan`)
    const { genesys } = t
    const ctx = await ownershipOf(t, record)
    const managed = await deps.registry.get(record.clientId, record.hrId)
    const entry = (userId: string, origin: WorkerEntry['origin']) => entryFor(record, userId, origin, managed)

    const settle = async (user: ScimUser): Promise<StepOutcome> => {
      const candidate = await candidateOf({ directory: genesys, cache: t.cache, registry: deps.registry }, user)
      const verdict = adoptionVerdict(candidate, { ...ctx, ...(candidate.owner ? { owner: candidate.owner } : {}) })
      if (!verdict.adopt) throw new Refusal([verdict.issue])
      if (verdict.reactivate) {
        // A rehire: the inactive account kept its roles; it can log in again.
        const current = await genesys.users.get(user.id)
        await genesys.users.patch(user.id, [{ op: 'replace', path: 'active', value: true }], current.version)
      }
      return { status: 'done', detail: { userId: user.id, adopted: true, ...(verdict.reactivate ? { reactivated: true } : {}) }, worker: entry(user.id, 'adopted') }
    }

    if (managed) {
      const current = await genesys.users.get(managed.genesysUserId).then((u) => u.resource, (err: unknown) => {
        if (isNotFound(err)) return undefined
        throw err
      })
      // Deleted upstream: the HR id is free to be created anew below.
      if (current) return settle(current)
    }
    // A first attempt creates at once (a taken email or externalId answers 409, then looked up);
    // a later one may follow a create that reached Genesys without its answer: look first.
    const existing = firstAttempt(record) ? [] : await genesys.users.findByExternalId(ctx.externalId)
    if (existing.length > 1) {
      throw new JobFailed(`Genesys has ${existing.length} users with this client's externalId for HR id ${record.hrId}; resolve the duplicate by hand`)
    }
    if (existing[0]) return settle(existing[0])
    try {
      const created = await genesys.users.create(plan.scimUser)
      return { status: 'done', detail: { userId: created.resource.id, adopted: false, ...(managed ? { replaced: managed.genesysUserId } : {}) }, worker: entry(created.resource.id, 'created') }
    } catch (err) {
      // POST carries no If-Match, so any 409 is a uniqueness conflict (with or
      // without scimType) and the final word on it: find who holds what.
      if (!(isGenesysError(err) && err.upstreamStatus === 409)) throw err
      const owner = (await genesys.users.findByUserName(record.email)) ?? (await genesys.users.findByExternalId(ctx.externalId))[0]
      if (owner) return settle(owner)
      if (job.attempt >= NOT_VISIBLE_ATTEMPTS) {
        throw new Refusal([{ code: 'hrId.taken', path: '/hrId', message: `Genesys refused the user as a duplicate (email or HR id) and no holder this client may see was found after ${job.attempt} attempts` }])
      }
      // A lost response, read back before the write is visible: look again later.
      throw new RetryLater('the email or HR id is taken but its holder is not visible yet', 2000, { cause: err })
    }
  }

  async function joinGroups (t: TenantGenesys, record: ProvisioningRecord, userId: string, joined: ReadonlySet<string> = new Set()): Promise<StepOutcome> {
    const groups = (record.plan?.groups ?? []).filter((g) => !joined.has(g.groupId))
    if (groups.length === 0) return { status: 'skipped', detail: {} }
    // The plan named these groups at validation; a mapping may have moved since
    // (and its division's claim ended). Joined is only a group the path still feeds.
    const division = record.plan?.division
    if (division) {
      const requester = requesterFor(record)
      for (const g of groups) {
        if (!await t.groups.stillFeeds(g.hrPath, division, g.groupId, { fallback: requester.groupFallback, allDivisions: requester.divisions === '*' })) {
          throw new GroupMoved(`HR group "${g.hrPath}" no longer feeds Genesys group "${g.groupName}" (its mapping changed while the hire was provisioned); Genesys user ${userId} was created and is kept, no group was joined. Retry the request to plan its groups again`)
        }
      }
    }
    // Idempotent: a user who is already a member is left as is.
    const membership = membershipOf(t)
    await Promise.all(groups.map((g) => membership.add(g.groupId, userId)))
    const ids = groups.map((g) => g.groupId)
    return { status: 'done', detail: { groupIds: ids }, worker: await entryAfter(record, (e) => ({ ...e, groups: [...new Set([...e.groups, ...ids])] })) }
  }

  async function provision (t: TenantGenesys, record: ProvisioningRecord, job: Job<ProvisioningJob>): Promise<void> {
    record = await step(record, 'createUser', () => createUser(t, record, job))
    const account = record.steps.find((s) => s.name === 'createUser')?.detail
    const userId = String(account?.userId)
    record = { ...record, genesysUserId: userId }
    if (record.kind === 'rehire' && typeof account?.replaced === 'string' && record.notes === undefined) {
      // The earlier account was deleted in Genesys: this is a hire of a new user.
      record = { ...record, kind: 'hire', notes: [`Genesys user ${account.replaced} no longer exists; a new user was created for the rehire`] }
    }
    // Every planned grant, also those a rehire kept: the desired state, whatever changed meanwhile.
    record = await step(record, 'grantRoles', () => grantRoles(t, record, userId, grantsOf(record.plan?.grants ?? [])))
    record = await step(record, 'joinGroups', () => withFreshIdRetry(t.cache, () => joinGroups(t, record, userId)))
    await finish(move(record, 'completed'))
  }

  /**
   * A leaver: the owned user is deactivated first (from then on it cannot log
   * in), then removed from every group this service added it to, so queue
   * membership is clean. Role grants stay for a rehire. Each step lands in the
   * ledger before the next: a re-run never deactivates or removes twice.
   */
  async function terminate (t: TenantGenesys, record: ProvisioningRecord): Promise<void> {
    const entry = await managedEntry(t, record)
    const userId = entry.genesysUserId
    if (record.status !== 'provisioning') {
      record = move(record, 'provisioning', { genesysUserId: userId, division: entry.divisionName })
      await requests.save(record)
    }
    if (record.hardDelete === true) {
      await hardDelete(t, record, entry)
      return
    }
    record = await step(record, 'deactivate', async () => {
      const current = await t.genesys.users.get(userId).catch((err: unknown) => {
        if (isNotFound(err)) return undefined
        throw err
      })
      const active = current !== undefined && current.resource.active !== false
      if (active) await t.genesys.users.patch(userId, [{ op: 'replace', path: 'active', value: false }], current.version)
      // Confirmed: Genesys answered the PATCH (or the user was already inactive, or deleted).
      const at = iso()
      return {
        status: active ? 'done' : 'skipped',
        detail: { userId, deactivatedAt: at, ...(current ? {} : { deleted: true }) },
        worker: await entryAfter(record, (e) => ({ ...e, active: false, deactivatedAt: at })),
      }
    })
    // A user deleted meanwhile is in none of them: each group read finds it gone, nothing is written.
    record = await step(record, 'leaveGroups', () => leaveGroups(t, record, userId, entry.groups))
    await finish(move(record, 'completed'))
  }

  /**
   * The hard delete a termination scheduled: only a user that is still
   * inactive in Genesys (one an administrator reactivated by hand is refused,
   * not deleted), with If-Match; a user already gone is success. The registry
   * keeps the worker, terminated and marked deleted, so a rehire creates anew.
   */
  async function hardDelete (t: TenantGenesys, record: ProvisioningRecord, entry: WorkerEntry): Promise<void> {
    const userId = entry.genesysUserId
    record = await step(record, 'deleteUser', async () => {
      const current = await t.genesys.users.get(userId).catch((err: unknown) => {
        if (isNotFound(err)) return undefined
        throw err
      })
      if (current && current.resource.active !== false) {
        throw new Refusal([{ code: 'worker.active', path: '/status', message: `Genesys user ${userId} is active again; it was not deleted` }])
      }
      if (current) {
        await t.genesys.users.remove(userId, current.version).catch((err: unknown) => {
          if (!isNotFound(err)) throw err
        })
      }
      const at = iso()
      return { status: current ? 'done' : 'skipped', detail: { userId, deletedAt: at }, worker: await entryAfter(record, (e) => ({ ...e, active: false, deletedAt: at })) }
    })
    await finish(move(record, 'completed'))
  }

  /**
   * The registry entry a change acts on: this client's for the HR id, in one of
   * the client's divisions (a division the client lost is no longer its to change).
   */
  async function managedEntry (t: TenantGenesys, record: ProvisioningRecord): Promise<WorkerEntry> {
    const entry = await deps.registry.get(record.clientId, record.hrId)
    if (!entry) throw new Refusal([{ code: 'worker.notManaged', path: '/hrId', message: `HR id ${record.hrId} is not a worker this client manages` }])
    const divisions = await divisionIdsOf({ directory: t.genesys, cache: t.cache }, requesterFor(record).divisions)
    if (divisions !== '*' && !divisions.has(entry.divisionId)) {
      throw new Refusal([{ code: 'division.notAllowed', path: '/division', message: `this client may not change workers in division "${entry.divisionName}"` }])
    }
    return entry
  }

  /** Grants these roles (coalesced with other hires wanting the same ones, see role-grants.ts) and records them with the worker. */
  async function grantRoles (t: TenantGenesys, record: ProvisioningRecord, userId: string, add: Grant[]): Promise<StepOutcome> {
    if (add.length === 0) return { status: 'skipped', detail: { grants: [] } }
    await withFreshIdRetry(t.cache, () => roleGrantsOf(t).grant(userId, add))
    return { status: 'done', detail: { grants: add }, worker: await entryAfter(record, (e) => ({ ...e, grants: [...e.grants, ...add.filter((g) => !e.grants.some((x) => grantKey(x) === grantKey(g)))] })) }
  }

  /** Removes the user from these groups (each read first, with If-Match, coalesced with other leavers) and from the worker's record. */
  async function leaveGroups (t: TenantGenesys, record: ProvisioningRecord, userId: string, leave: readonly string[]): Promise<StepOutcome> {
    const gone = new Set(leave)
    const worker = await entryAfter(record, (e) => ({ ...e, groups: e.groups.filter((id) => !gone.has(id)) }))
    if (leave.length === 0) return { status: 'skipped', detail: { groupIds: [] }, worker }
    const membership = membershipOf(t)
    await Promise.all(leave.map((groupId) => membership.remove(groupId, userId)))
    return { status: 'done', detail: { groupIds: [...leave] }, worker }
  }

  /**
   * A mover or an update of an active worker: its attributes (one SCIM PATCH of
   * what differs, with If-Match; the division by name), then its grants and
   * groups as additions and removals of what this service granted, never
   * anything it did not. Roles in a new division are granted before the old
   * division's are removed, one at a time.
   */
  async function change (t: TenantGenesys, record: ProvisioningRecord): Promise<void> {
    const plan = record.plan
    if (!plan) throw new Error(`request ${record.id} reached provisioning without a plan`)
    const entry = await managedEntry(t, record)
    const userId = entry.genesysUserId
    record = { ...record, genesysUserId: userId }
    record = await step(record, 'updateUser', async () => {
      const current = await t.genesys.users.get(userId).catch((err: unknown) => {
        if (isNotFound(err)) throw new Refusal([{ code: 'worker.deleted', path: '/hrId', message: `the Genesys user of HR id ${record.hrId} was deleted outside the service; send the worker with status "active" after terminating it to create a new one` }])
        throw err
      })
      const { operations, changed } = userPatch(plan.scimUser, current.resource)
      const division = plan.division ? { divisionId: plan.division.id, divisionName: plan.division.name } : {}
      const moved = plan.division !== undefined && plan.division.id !== entry.divisionId
      const detail = { userId, changed, ...(moved ? { divisionBefore: entry.divisionName, divisionAfter: plan.division?.name } : {}) }
      if (operations.length === 0) return { status: 'skipped', detail, worker: await entryAfter(record, (e) => ({ ...e, ...division })) }
      try {
        await t.genesys.users.patch(userId, operations, current.version)
      } catch (err) {
        if (isVersionConflict(err)) throw new RetryLater('the user changed while it was being updated', 1000, { cause: err })
        throw err
      }
      return { status: 'done', detail, worker: await entryAfter(record, (e) => ({ ...e, ...division })) }
    })
    // Only what this service granted is compared and removed: the registry's grants and groups.
    const granted = new Set(entry.grants.map(grantKey))
    const wanted = grantsOf(plan.grants)
    const keep = new Set(wanted.map(grantKey))
    record = await step(record, 'grantRoles', () => grantRoles(t, record, userId, wanted.filter((g) => !granted.has(grantKey(g)))))
    record = await step(record, 'revokeRoles', async () => {
      const revoke = entry.grants.filter((g) => !keep.has(grantKey(g)))
      if (revoke.length === 0) return { status: 'skipped', detail: { grants: [] } }
      for (const g of revoke) await t.genesys.grants.remove(userId, g)
      const gone = new Set(revoke.map(grantKey))
      return { status: 'done', detail: { grants: revoke }, worker: await entryAfter(record, (e) => ({ ...e, grants: e.grants.filter((g) => !gone.has(grantKey(g))) })) }
    })
    record = await step(record, 'joinGroups', () => withFreshIdRetry(t.cache, () => joinGroups(t, record, userId, new Set(entry.groups))))
    const planned = new Set(plan.groups.map((g) => g.groupId))
    record = await step(record, 'leaveGroups', () => leaveGroups(t, record, userId, entry.groups.filter((id) => !planned.has(id))))
    await finish(move(record, 'completed'))
  }

  async function fail (record: ProvisioningRecord, err: unknown): Promise<void> {
    const g = isGenesysError(err) ? err : undefined
    // A user created before the failure stays upstream: the record says which one.
    const created = record.genesysUserId ?? record.steps.find((st) => st.name === 'createUser')?.detail.userId
    if (typeof created === 'string') record = { ...record, genesysUserId: created }
    const refused = g ? permissionRefusal(record, g) : undefined
    const error = {
      code: isProvisioningError(err) ? err.code : 'PROV_ERR_INTERNAL',
      message: refused?.message ?? (err instanceof Error ? err.message : String(err)),
      ...(g?.genesysCode !== undefined ? { genesysCode: g.genesysCode } : {}),
      ...(g?.correlationId !== undefined ? { correlationId: g.correlationId } : {}),
    }
    await finish(move(record, 'failed', { error, ...(refused ? { issues: [refused] } : {}) }))
  }

  return async function handle (job: Job<ProvisioningJob>): Promise<void> {
    const loaded = await requests.get(job.data.requestId)
    // A held request waits for an operator's confirm, which queues it anew.
    if (!loaded || TERMINAL_STATUSES.has(loaded.status) || loaded.status === 'held') return
    let record: ProvisioningRecord | undefined = { ...loaded, attempts: loaded.attempts + 1 }
    const log = deps.logger.child({ provisioningId: record.id, attempt: job.attempt, ...(record.originRequestId !== undefined ? { requestId: record.originRequestId } : {}) })
    const t = deps.genesysFor(record.clientId)
    // One OAuth client's backlog, paced by its own budget, must not hold every
    // slot of this process while other tenants' budgets sit idle.
    if (tenantSlots.full(t, deps.slotsPerTenant)) {
      throw new JobDeferred('its Genesys OAuth client already holds its share of this worker\'s slots', SLOT_RETRY_MS + Math.floor(Math.random() * SLOT_RETRY_MS))
    }
    const clientId = record.clientId
    if (record.kind !== 'terminate' && clientSlots.full(clientId, deps.slotsPerClient?.(clientId))) {
      // Sooner than an OAuth client's: the slot is free again within a job's time, and idle slots waste the shared budget.
      throw new JobDeferred('its API client already holds its share of this worker\'s slots', CLIENT_SLOT_RETRY_MS + Math.floor(Math.random() * CLIENT_SLOT_RETRY_MS))
    }
    tenantSlots.enter(t)
    clientSlots.enter(clientId)
    try {
      if (record.kind === 'terminate') {
        await terminate(t, record)
        return
      }
      if (record.status === 'accepted' || record.status === 'validating') {
        record = await validate(t, record)
        if (!record) return
      }
      if (record.kind === 'update' || record.kind === 'move') await change(t, record)
      else await provision(t, record, job)
    } catch (err) {
      const latest = (await requests.get(loaded.id)) ?? record ?? loaded
      if (err instanceof Refusal) {
        log.info({ issues: err.issues.map((i) => i.code) }, 'provisioning request refused')
        await finish(move({ ...latest, attempts: record?.attempts ?? latest.attempts }, 'rejected', { issues: err.issues }))
        return
      }
      const wait = budgetWait(err)
      if (wait !== undefined) {
        // Genesys asked this OAuth client to wait (429), or its budget is paused
        // or booked that far ahead: the job waits too, spending no attempt.
        await requests.save({ ...latest, attempts: loaded.attempts, updatedAt: iso() })
        log.info({ err: safeErr(err), delayMs: wait }, 'provisioning deferred: its Genesys OAuth client must wait')
        throw new JobDeferred('its Genesys OAuth client is rate limited', wait)
      }
      const retryable = isRetryable(err)
      if (!retryable || job.attempt >= job.maxAttempts) {
        log.warn({ err: safeErr(err) }, 'provisioning request failed')
        await fail({ ...latest, attempts: record?.attempts ?? latest.attempts }, err)
        throw new JobFailed(err instanceof Error ? err.message : String(err), { cause: err })
      }
      await requests.save({ ...latest, attempts: record?.attempts ?? latest.attempts, updatedAt: iso() })
      log.info({ err: safeErr(err) }, 'provisioning attempt failed; will retry')
      throw new RetryLater(err instanceof Error ? err.message : String(err), retryDelay(err), { cause: err })
    } finally {
      tenantSlots.leave(t)
      clientSlots.leave(clientId)
    }
  }
}

/** Jobs running per key; a key is full at its limit (an undefined limit never is). */
function createSlots<K> () {
  const held = new Map<K, number>()
  return {
    full: (key: K, limit: number | undefined) => limit !== undefined && (held.get(key) ?? 0) >= limit,
    enter: (key: K) => { held.set(key, (held.get(key) ?? 0) + 1) },
    leave: (key: K) => {
      const left = (held.get(key) ?? 1) - 1
      if (left > 0) held.set(key, left)
      else held.delete(key)
    },
  }
}

/** A client's default share of a process's slots while several clients provision. */
export const DEFAULT_CLIENT_SHARE = 0.25

/**
 * The slots each API client's jobs may hold at once in a process of
 * `concurrency` slots: its `upstream.share` from the clients file, else a
 * quarter while several clients may provision (`provisioning:write` or
 * `admin`; a caller not in the file, such as a JWT client, gets the default);
 * a lone client, no cap.
 */
export function clientSlotLimits (clients: readonly Pick<ApiClient, 'id' | 'scopes' | 'upstream'>[], concurrency: number): (apiClientId: string) => number | undefined {
  // Every client that can make requests: provisioning:write, or admin (imports).
  const several = clients.filter((c) => c.scopes.includes('provisioning:write') || c.scopes.includes('admin')).length > 1
  const byId = new Map(clients.map((c) => [c.id, c]))
  return (apiClientId) => {
    const share = byId.get(apiClientId)?.upstream?.share ?? (several ? DEFAULT_CLIENT_SHARE : undefined)
    return share === undefined ? undefined : Math.max(1, Math.ceil(concurrency * share))
  }
}

/** How long a job whose OAuth client holds its share of the slots waits before it asks again (plus up to as much jitter). */
const SLOT_RETRY_MS = 2000
/** The same for a job whose API client holds its share (plus up to as much jitter). */
const CLIENT_SLOT_RETRY_MS = 500

/** The wait a rate limit imposes on this job (a 429, or a budget paused or booked past the wait bound); undefined for other errors. */
function budgetWait (err: unknown): number | undefined {
  if (!isGenesysError(err)) return undefined
  if (err.upstreamStatus !== 429 && err.failure !== 'rate-budget') return undefined
  // A little jitter: jobs deferred by one pause do not all come back at one instant.
  return (err.retryAfterMs ?? 1000) + Math.floor(Math.random() * 250)
}

/** The permission each write needs from the OAuth client, for when Genesys' 403 does not name it. */
const PERMISSION_OF: Record<string, string> = {
  'scim.users.create': 'directory:user:add',
  'grants.bulkAdd': 'authorization:grant:add',
  'grants.roleToUsers': 'authorization:grant:add',
  'scim.groups.patchMembers': 'directory:group:edit',
  'scim.users.patch': 'directory:user:edit',
  'grants.remove': 'authorization:grant:delete',
}

/**
 * A 403 on a write: the OAuth client lacks a permission (per division, in
 * Genesys). Names the permission, the division and what was already done, so
 * an operator can fix the client's grants; retrying cannot help.
 */
function permissionRefusal (record: ProvisioningRecord, err: GenesysError): Issue | undefined {
  if (err.upstreamStatus !== 403) return undefined
  const permission = /permission\(s\):\s*\[([^\]]+)\]/i.exec(err.upstreamMessage ?? '')?.[1] ?? PERMISSION_OF[err.operation] ?? 'unknown'
  const grant = err.operation === 'grants.bulkAdd' || err.operation === 'grants.roleToUsers'
  const division = grant
    ? [...new Set((record.plan?.grants ?? []).map((g) => g.divisionName))].join(', ')
    : record.plan?.scimUser.enterprise?.division ?? record.division ?? 'home'
  const done = record.genesysUserId === undefined ? 'nothing was written' : `Genesys user ${record.genesysUserId} was created and is kept; the remaining steps were not done`
  return {
    code: 'genesys.permissionDenied',
    path: grant ? '/roles' : '/division',
    message: `the Genesys OAuth client lacks permission ${permission} in division "${division}" (${err.operation} answered 403); ${done}. Grant the OAuth client a role with ${permission} in that division, then submit the hire again (the user is adopted by its HR id).`,
  }
}

/** A planned group the HR path no longer feeds: the request fails (a retry plans again), nothing is joined. */
class GroupMoved extends JobFailed {
  constructor (message: string) {
    super(message)
    this.name = 'GroupMoved'
  }
}

/** A create answered 409 with no visible holder this many times: refused rather than retried for ever. */
const NOT_VISIBLE_ATTEMPTS = 4

/** The account belongs to someone else (found while provisioning): the request ends `rejected` with these issues. */
class Refusal extends Error {
  constructor (readonly issues: Issue[]) {
    super(issues.map((i) => i.message).join('; '))
    this.name = 'Refusal'
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
      await cache.clear()
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
  if (err instanceof JobFailed) return false
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

/** Group removals read first and write with If-Match: a concurrent change of the group is re-read, never overwritten. */
/** The request's first run, first attempt: nothing of it can have reached Genesys yet. */
const firstAttempt = (record: Pick<ProvisioningRecord, 'attempts' | 'retries'>) => record.attempts <= 1 && record.retries === 0

type Grant = { roleId: string, divisionId: string }

const grantKey = (g: Grant) => `${g.roleId}/${g.divisionId}`

/** The role and division ids of planned grants (what Genesys and the registry record). */
const grantsOf = (planned: readonly Grant[]): Grant[] => planned.map((g) => ({ roleId: g.roleId, divisionId: g.divisionId }))
