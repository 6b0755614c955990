import type { FastifyBaseLogger } from 'fastify'
import type { AuthenticatedClient } from '../config/clients.js'
import { errors, isProvisioningError } from '../errors.js'
import type { GenesysClient } from '../genesys/client.js'
import { isGenesysError, isVersionConflict } from '../genesys/errors.js'
import { JobFailed, RetryLater, type Job } from '../jobs/queue.js'
import { newId } from '../lib/ids.js'
import type { Clock } from '../lib/timers.js'
import type { WorkerRegistry } from '../provisioning/registry.js'
import type { Delivery } from '../webhooks/ports.js'
import { chunks, exceedsRemovalBrake, hrIdsOf, membershipDiff } from './diff.js'
import { canonicalGroupPath, inDivisions } from './mappings.js'
import { TERMINAL_SYNC_STATUSES, type GroupSync, type GroupSyncChange, type GroupSyncJob, type GroupSyncResult, type GroupSyncStore, type MappingStore } from './ports.js'

/** Genesys takes at most 50 member ids per membership change. */
const BATCH = 50
/** A group whose version keeps moving is re-read and recomputed this many times per run. */
const VERSION_RETRIES = 5
/** HR ids looked up at once (each one SCIM filter query, paced by the rate budget). */
const LOOKUP_CONCURRENCY = 8

export const SYNCS_PATH = '/v1/group-syncs'

/**
 * Membership syncs from the HR system: a full desired list (PUT) or a delta
 * (PATCH), accepted as a durable job with a status resource.
 */
export function createGroupSyncService (deps: {
  syncs: GroupSyncStore
  mappings: MappingStore
  queue: { enqueue (sync: Pick<GroupSync, 'id'>): Promise<void> }
  clock: Clock
  maxGroupDepth: number
}) {
  const iso = () => new Date(deps.clock.now()).toISOString()
  return {
    async accept (client: AuthenticatedClient, rawPath: string, change: GroupSyncChange, confirmed: boolean): Promise<GroupSync> {
      const hrPath = canonicalGroupPath(rawPath, deps.maxGroupDepth)
      const mapping = await deps.mappings.get(hrPath)
      if (!mapping) throw errors.notFound(`No group mapping for "${hrPath}"; create one with PUT /v1/group-mappings/{hrGroupPath} first.`)
      if (!inDivisions(client, mapping.division)) throw errors.forbidden(`The group mapped for "${hrPath}" belongs to a division this client may not use.`)
      const now = iso()
      const sync: GroupSync = {
        id: newId('gsy', deps.clock.now()),
        clientId: client.id,
        hrPath,
        division: mapping.division,
        groupId: mapping.genesysGroup.id,
        change,
        confirmed,
        status: 'accepted',
        createdAt: now,
        updatedAt: now,
        attempts: 0,
      }
      await deps.syncs.insert(sync)
      await deps.queue.enqueue(sync)
      return sync
    },
    async get (client: AuthenticatedClient, id: string): Promise<GroupSync> {
      const s = await deps.syncs.get(id)
      if (!s || s.clientId !== client.id) throw errors.notFound(`No group sync ${id}.`)
      return s
    },
    list: (client: AuthenticatedClient, query: { hrPath?: string, limit: number, cursor?: string }) => deps.syncs.list(client.id, query),
  }
}

export type GroupSyncService = ReturnType<typeof createGroupSyncService>

export type SyncDirectory = {
  groups: Pick<GenesysClient['groups'], 'get' | 'patchMembers'>
}

/**
 * The sync job: resolve HR ids to Genesys users through the worker registry
 * (only this client's workers; any other HR id is reported as unknown),
 * read the group with its version, send only the changes that change something
 * (in batches, each guarded by `If-Match`), and on a version conflict read
 * again and recompute. Removals beyond the brake wait for `?confirm=true`.
 */
export function createGroupSyncWorker (deps: {
  syncs: GroupSyncStore
  /** Genesys as the sync's API client's OAuth client sees it. */
  directoryFor: (apiClientId: string) => SyncDirectory
  /** The mappings, read again before each write: a sync writes only the group its path still maps to, while its division owns it. */
  mappings: Pick<MappingStore, 'get' | 'ownerOf'>
  /** Proof of ownership: a sync adds or removes only users this client manages. */
  registry: WorkerRegistry
  clock: Clock
  logger: FastifyBaseLogger
  maxRemovalsPercent: number
  /** The webhook a finished sync owes (written with its terminal state). */
  outbox?: (sync: GroupSync) => Delivery | undefined
  onTerminal?: (sync: GroupSync) => Promise<void> | void
}) {
  const { syncs } = deps
  const iso = () => new Date(deps.clock.now()).toISOString()

  async function finish (sync: GroupSync): Promise<void> {
    const delivery = deps.outbox?.(sync)
    const done = delivery ? { ...sync, webhookId: delivery.id } : sync
    await syncs.save(done, delivery)
    deps.logger.info({ syncId: sync.id, status: sync.status, added: sync.result?.added.length, removed: sync.result?.removed.length }, 'group sync finished')
    try {
      await deps.onTerminal?.(done)
    } catch (err) {
      deps.logger.warn({ syncId: sync.id, err: err instanceof Error ? { message: err.message } : err }, 'terminal-state listener failed')
    }
  }

  /** HR id → Genesys user id, for the ids that are this client's workers. */
  async function resolve (clientId: string, hrIds: string[]): Promise<Map<string, string>> {
    const found = new Map<string, string>()
    for (const batch of chunks(hrIds, LOOKUP_CONCURRENCY)) {
      await Promise.all(batch.map(async (hrId) => {
        const entry = await deps.registry.get(clientId, hrId)
        if (entry) found.set(hrId, entry.genesysUserId)
      }))
    }
    return found
  }

  /** The members this client manages, by Genesys user id → HR id; anyone else is left alone. */
  async function ownedMembers (clientId: string, memberIds: Iterable<string>): Promise<Map<string, string>> {
    const owned = new Map<string, string>()
    for (const batch of chunks([...memberIds], LOOKUP_CONCURRENCY)) {
      await Promise.all(batch.map(async (id) => {
        const owner = await deps.registry.ownerOf(id)
        if (owner?.clientId === clientId) owned.set(id, owner.hrId)
      }))
    }
    return owned
  }

  /** Records the memberships this sync made or undid in the workers' registry entries. */
  async function recordMemberships (sync: GroupSync, added: string[], removed: string[]): Promise<void> {
    const change = async (hrId: string, fn: (groups: string[]) => string[]) => {
      const entry = await deps.registry.get(sync.clientId, hrId)
      if (entry) await deps.registry.put({ ...entry, groups: fn(entry.groups), updatedAt: iso() })
    }
    for (const batch of chunks([...added.map((h) => ({ h, add: true })), ...removed.map((h) => ({ h, add: false }))], LOOKUP_CONCURRENCY)) {
      await Promise.all(batch.map(({ h, add }) => change(h, (g) => (add ? [...new Set([...g, sync.groupId])] : g.filter((id) => id !== sync.groupId)))))
    }
  }

  /**
   * Why the sync may no longer write its group, or undefined: the mapping it was
   * accepted for was removed or now names another group, or its division's
   * claim on the group ended (a mapping moved away meanwhile).
   */
  async function mappingMoved (sync: GroupSync): Promise<string | undefined> {
    const mapping = await deps.mappings.get(sync.hrPath)
    if (!mapping || mapping.genesysGroup.id !== sync.groupId) return `the mapping for "${sync.hrPath}" ${mapping ? 'now names another Genesys group' : 'was removed'} while the sync waited`
    if (mapping.shared === true || mapping.divisionId === undefined) return undefined
    const owner = await deps.mappings.ownerOf(sync.groupId)
    return owner === mapping.divisionId ? undefined : `division "${mapping.division}" no longer owns the Genesys group mapped for "${sync.hrPath}"`
  }

  async function run (sync: GroupSync): Promise<GroupSync> {
    const directory = deps.directoryFor(sync.clientId)
    const hrIds = [...new Set(hrIdsOf(sync.change))]
    const userOf = await resolve(sync.clientId, hrIds)
    const hrIdOf = new Map([...userOf].map(([hr, user]) => [user, hr]))
    const ids = (list: string[]) => new Set(list.map((hr) => userOf.get(hr)).filter((u): u is string => u !== undefined))
    const wanted = sync.change.mode === 'replace'
      ? { mode: 'replace' as const, desired: ids(sync.change.members) }
      : { mode: 'delta' as const, add: ids(sync.change.add), remove: ids(sync.change.remove) }
    const result: GroupSyncResult = {
      added: [], removed: [], removedUnmapped: [], keptUnowned: 0,
      unknownHrIds: hrIds.filter((hr) => !userOf.has(hr)).sort(),
      membersBefore: 0, membersAfter: 0, patches: 0, conflicts: 0,
    }

    for (let attempt = 0; ; attempt++) {
      const group = await directory.groups.get(sync.groupId)
      const members = (group.resource.members ?? []).map((m) => m.value)
      const current = new Set(members)
      // Only members this client manages can be removed: the rest is kept and counted.
      const owned = await ownedMembers(sync.clientId, current)
      for (const [id, hr] of owned) hrIdOf.set(id, hr)
      const raw = membershipDiff(current, wanted)
      const diff = { add: raw.add, remove: raw.remove.filter((id) => owned.has(id)) }
      result.keptUnowned = raw.remove.length - diff.remove.length
      if (attempt === 0) result.membersBefore = current.size
      if (attempt === 0 && !sync.confirmed && exceedsRemovalBrake(diff.remove.length, current.size, deps.maxRemovalsPercent)) {
        return {
          ...sync,
          status: 'needs-confirmation',
          result: { ...result, membersAfter: current.size },
          error: {
            code: 'GROUP_SYNC_REMOVAL_BRAKE',
            message: `this sync would remove ${diff.remove.length} of ${current.size} members (more than ${deps.maxRemovalsPercent} %); nothing was changed. Send it again with ?confirm=true if that is intended`,
          },
        }
      }
      let version = group.version
      try {
        // Removals first: the group never holds more members than either end state needs.
        const ops = [...diff.remove.map((id) => ({ remove: id })), ...diff.add.map((id) => ({ add: id }))]
        for (const batch of chunks(ops, BATCH)) {
          const change = { add: batch.flatMap((o) => ('add' in o ? [o.add] : [])), remove: batch.flatMap((o) => ('remove' in o ? [o.remove] : [])) }
          const moved = await mappingMoved(sync)
          if (moved) return { ...sync, status: 'failed', result, error: { code: 'GROUP_SYNC_MAPPING_CHANGED', message: `${moved}; ${result.patches === 0 ? 'nothing was changed' : `${result.patches} change${result.patches === 1 ? ' was' : 's were'} made before it moved`}. Send the sync again` } }
          const updated = await directory.groups.patchMembers(sync.groupId, change, version)
          version = updated.version
          result.patches++
          for (const id of change.add) result.added.push(hrIdOf.get(id) ?? id)
          result.removed.push(...change.remove)
        }
        result.membersAfter = current.size - diff.remove.length + diff.add.length
        result.removed = result.removed.map((id) => hrIdOf.get(id) ?? id)
        await recordMemberships(sync, result.added, result.removed)
        return { ...sync, status: 'completed', result }
      } catch (err) {
        if (!isVersionConflict(err)) throw err
        result.conflicts++
        if (attempt >= VERSION_RETRIES) throw new RetryLater(`group ${sync.groupId} kept changing during the sync`, 2000, { cause: err })
      }
    }
  }

  return async function handle (job: Job<GroupSyncJob>): Promise<void> {
    const loaded = await syncs.get(job.data.syncId)
    if (!loaded || TERMINAL_SYNC_STATUSES.has(loaded.status)) return
    const sync: GroupSync = { ...loaded, status: 'running', attempts: loaded.attempts + 1, updatedAt: iso() }
    await syncs.save(sync)
    try {
      const outcome = await run(sync)
      await finish({ ...outcome, updatedAt: iso() })
    } catch (err) {
      const last = err instanceof JobFailed || (isProvisioningError(err) && !err.retryable) || job.attempt >= job.maxAttempts
      if (!last) throw err instanceof RetryLater ? err : new RetryLater(err instanceof Error ? err.message : String(err), isGenesysError(err) ? err.retryAfterMs ?? 0 : 0, { cause: err })
      const g = isGenesysError(err) ? err : undefined
      await finish({
        ...sync,
        status: 'failed',
        updatedAt: iso(),
        error: { code: 'GROUP_SYNC_FAILED', message: err instanceof Error ? err.message : String(err), ...(g?.correlationId !== undefined ? { correlationId: g.correlationId } : {}) },
      })
      throw new JobFailed(err instanceof Error ? err.message : String(err), { cause: err })
    }
  }
}
