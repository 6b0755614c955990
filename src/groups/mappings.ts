import type { AuthenticatedClient } from '../config/clients.js'
import { errors, type Issue } from '../errors.js'
import { queueReferencesTo, type GenesysClient } from '../genesys/client.js'
import type { Queue } from '../genesys/types.js'
import { groupPathSegments, invisibleIssues, normalizeGroupPath } from '../provisioning/checks/static-checks.js'
import type { Clock } from '../lib/timers.js'
import type { GroupMapping, MappingStore, QueueLock } from './ports.js'

export type MappingDirectory = {
  groups: Pick<GenesysClient['groups'], 'findByDisplayName'>
  platformGroups: Pick<GenesysClient['platformGroups'], 'create'>
  queues: Pick<GenesysClient['queues'], 'byName' | 'get' | 'updateMemberGroups'>
  divisions: Pick<GenesysClient['divisions'], 'byName' | 'home'>
}

export interface MappingInput {
  genesysGroup: string
  queues: string[]
  create: boolean
  division?: string
  /** Admin scope only: map a group that another division's mapping owns (its hires may join; its queues stay the owner's). */
  shareGroup?: boolean
}

const fold = (name: string) => name.normalize('NFC').toLowerCase()

/** A client may touch what lies in its divisions (names compared as Genesys does: case-insensitively). */
export function inDivisions (client: Pick<AuthenticatedClient, 'divisions'>, division: string): boolean {
  return client.divisions === '*' || client.divisions.some((d) => fold(d) === fold(division))
}

/** Checks an HR group path from a URL and returns its canonical form, or throws 422. */
export function canonicalGroupPath (raw: string, maxDepth: number): string {
  const invisible = invisibleIssues([['/hrGroupPath', raw]])
  if (invisible.length > 0) throw errors.policy('Invalid HR group path.', invisible)
  const segments = groupPathSegments(raw)
  if (segments.some((s) => s.length === 0)) {
    throw errors.policy('Invalid HR group path.', [{ code: 'group.pathInvalid', path: '/hrGroupPath', message: `group path "${raw}" has an empty segment` }])
  }
  if (segments.length > maxDepth) {
    throw errors.policy('HR group path too deep.', [{ code: 'group.tooDeep', path: '/hrGroupPath', message: `group path "${raw}" is ${segments.length} levels deep; at most ${maxDepth} are allowed` }])
  }
  return normalizeGroupPath(raw)
}

/**
 * HR group mappings: an HR path feeds one Genesys group, which is a member of
 * the mapped queues. Applying a mapping makes Genesys match it (creating the
 * group when asked, adding it to each queue and taking it out of queues the
 * mapping no longer lists, never touching the queues' other member groups).
 */
/**
 * 409 for taking a group out of a queue whose conditional group routing or
 * bullseye rings still route to it: Genesys would refuse the PUT, and dropping
 * the rule silently would change routing nobody asked to change.
 */
function stillReferenced (queue: Queue, group: { id: string, name: string }, refs: string[]) {
  const message = `queue "${queue.name}" still routes to group "${group.name}" through ${refs.join(' and ')}; remove the group there first`
  return errors.conflict(`The mapping cannot release queue "${queue.name}": ${message}.`, { issues: [{ code: 'queue.groupReferenced', path: '/queues', message }] })
}

export function createMappingService (deps: {
  store: MappingStore
  /** Genesys as the calling API client's OAuth client sees it (reads and writes go out with its token). */
  directoryFor: (apiClientId: string) => MappingDirectory
  queueLock: QueueLock
  clock: Clock
  maxGroupDepth: number
}) {
  const { store, queueLock } = deps

  /** One locked read-modify-write of a queue's member groups (other member groups and their types are kept). */
  const addToQueue = (directory: MappingDirectory, queueId: string, group: { id: string }) => queueLock.withLock(queueId, () =>
    directory.queues.updateMemberGroups(queueId, (current) => (current.some((g) => g.id === group.id) ? current : [...current, { id: group.id, type: 'GROUP' }])))
  const removeFromQueue = (directory: MappingDirectory, queueId: string, group: { id: string, name: string }) => queueLock.withLock(queueId, () =>
    directory.queues.updateMemberGroups(queueId, (current, queue) => {
      const refs = queueReferencesTo(queue, group.id)
      if (refs.length > 0) throw stillReferenced(queue, group, refs)
      return current.filter((g) => g.id !== group.id)
    }))

  async function readable (client: AuthenticatedClient, hrPath: string): Promise<GroupMapping> {
    const m = await store.get(hrPath)
    // Another division's mapping is indistinguishable from a missing one.
    if (!m || !inDivisions(client, m.division)) throw errors.notFound(`No group mapping for "${hrPath}".`)
    return m
  }

  /** A division's claim on a group ends with its last mapping of it. */
  async function releaseIfUnused (old: GroupMapping): Promise<void> {
    if (old.shared === true || old.divisionId === undefined) return
    const still = (await store.list()).some((m) => m.genesysGroup.id === old.genesysGroup.id && m.divisionId === old.divisionId && m.shared !== true)
    if (!still) await store.releaseGroup(old.genesysGroup.id, old.divisionId)
  }

  async function defaultDivision (client: AuthenticatedClient): Promise<string> {
    if (client.divisions !== '*' && client.divisions.length === 1 && client.divisions[0] !== undefined) return client.divisions[0]
    if (client.divisions === '*') return (await deps.directoryFor(client.id).divisions.home()).name
    throw errors.policy('The mapping needs a division.', [{ code: 'division.required', path: '/division', message: 'this client may use several divisions: name the one the mapping belongs to' }])
  }

  return {
    list: async (client: AuthenticatedClient) => (await store.list()).filter((m) => inDivisions(client, m.division)),

    get: (client: AuthenticatedClient, rawPath: string) => readable(client, canonicalGroupPath(rawPath, deps.maxGroupDepth)),

    /**
     * Creates or replaces a mapping and applies it upstream. The mapping claims
     * its Genesys group for its division: another division's mapping of the same
     * group is refused unless an admin shares it, and only the owner's mapping
     * puts the group on queues (in the owner's division).
     */
    async put (client: AuthenticatedClient, rawPath: string, input: MappingInput): Promise<{ mapping: GroupMapping, created: boolean }> {
      const hrPath = canonicalGroupPath(rawPath, deps.maxGroupDepth)
      const directory = deps.directoryFor(client.id)
      const requested = input.division ?? await defaultDivision(client)
      if (!inDivisions(client, requested)) throw errors.forbidden(`This client may not use division "${requested}".`)
      const existing = await store.get(hrPath)
      if (existing && !inDivisions(client, existing.division)) throw errors.forbidden(`The mapping for "${hrPath}" belongs to a division this client may not use.`)
      const invisible = invisibleIssues([['/genesysGroup', input.genesysGroup], ['/division', input.division], ...input.queues.map((q, i): [string, string] => [`/queues/${i}`, q])])
      if (invisible.length > 0) throw errors.policy('The mapping cannot be applied.', invisible)
      if (input.shareGroup === true && !client.scopes.includes('admin')) throw errors.forbidden('Only an admin-scoped client may share a group owned by another division.')

      const issues: Issue[] = []
      const [divisionFound, groupFound, queues] = await Promise.all([
        directory.divisions.byName(requested),
        directory.groups.findByDisplayName(input.genesysGroup),
        Promise.all(input.queues.map(async (name) => ({ name, found: await directory.queues.byName(name) }))),
      ])
      if (!divisionFound) issues.push({ code: 'division.notFound', path: '/division', message: `division "${requested}" does not exist in Genesys Cloud` })
      if (!groupFound && !input.create) {
        issues.push({ code: 'group.notFound', path: '/genesysGroup', message: `Genesys group "${input.genesysGroup}" does not exist; send "create": true to create it` })
      }
      const owner = groupFound ? await store.ownerOf(groupFound.id) : undefined
      const shared = owner !== undefined && divisionFound !== undefined && owner !== divisionFound.id
      if (shared && input.shareGroup !== true) {
        throw errors.conflict(`Genesys group "${input.genesysGroup}" is owned by another division's mapping; an admin-scoped client can share it with "shareGroup": true.`, { retryable: false })
      }
      queues.forEach((q, i) => {
        if (!q.found) issues.push({ code: 'queue.notFound', path: `/queues/${i}`, message: `queue "${q.name}" does not exist` })
        else if (shared) issues.push({ code: 'queue.groupNotOwned', path: `/queues/${i}`, message: `a shared group is put on queues only by its owner's mapping; "${q.name}" is left as it is` })
        else if (divisionFound && q.found.division?.id !== undefined && q.found.division.id !== divisionFound.id) {
          // Compared by id; the message names only what the caller asked about.
          issues.push({ code: 'queue.otherDivision', path: `/queues/${i}`, message: `queue "${q.name}" is not in division "${divisionFound.name}"` })
        }
      })
      if (issues.length > 0 || !divisionFound) throw errors.policy('The mapping cannot be applied.', issues)
      const division = { id: divisionFound.id, name: divisionFound.name }

      const group = groupFound
        ? { id: groupFound.id, name: groupFound.displayName }
        : await directory.platformGroups.create({ name: input.genesysGroup, description: `Fed by HR group ${hrPath}` }).then((g) => ({ id: g.id, name: g.name }))
      if (!shared) {
        // Two mappings racing for one unclaimed group: the first claim wins.
        const claimedBy = await store.claimGroup(group.id, division.id)
        if (claimedBy !== division.id) throw errors.conflict(`Genesys group "${group.name}" was just claimed by another division's mapping.`, { retryable: false })
      }
      const wanted = queues.map((q) => ({ id: q.found?.id ?? '', name: q.name }))
      // Queues this mapping used to feed (or an old group it used to name) are let go.
      const released = existing ? existing.queues.filter((q) => !(existing.genesysGroup.id === group.id && wanted.some((w) => w.id === q.id))) : []
      // A release routing still depends on is refused before anything is written.
      for (const q of released) {
        const queue = await directory.queues.get(q.id)
        const refs = existing ? queueReferencesTo(queue, existing.genesysGroup.id) : []
        if (existing && refs.length > 0) throw stillReferenced(queue, existing.genesysGroup, refs)
      }
      for (const q of wanted) await addToQueue(directory, q.id, group)
      if (existing) for (const q of released) await removeFromQueue(directory, q.id, existing.genesysGroup)
      const now = new Date(deps.clock.now()).toISOString()
      const mapping: GroupMapping = {
        hrPath, division: division.name, divisionId: division.id, genesysGroup: group, queues: wanted,
        ...(shared ? { shared: true } : {}),
        createdAt: existing?.createdAt ?? now, updatedAt: now, updatedBy: client.id,
      }
      await store.put(mapping)
      if (existing && existing.genesysGroup.id !== group.id) await releaseIfUnused(existing)
      return { mapping, created: existing === undefined }
    },

    /** Forgets a mapping; the Genesys group and its queue memberships stay as they are. */
    async delete (client: AuthenticatedClient, rawPath: string): Promise<void> {
      const hrPath = canonicalGroupPath(rawPath, deps.maxGroupDepth)
      const existing = await store.get(hrPath)
      if (!existing) throw errors.notFound(`No group mapping for "${hrPath}".`)
      if (!inDivisions(client, existing.division)) throw errors.forbidden(`The mapping for "${hrPath}" belongs to a division this client may not use.`)
      await store.delete(hrPath)
      await releaseIfUnused(existing)
    },

    /** The group an HR path feeds for a client, when a mapping in its divisions exists. */
    async resolve (client: Pick<AuthenticatedClient, 'divisions'>, hrPath: string): Promise<GroupMapping | undefined> {
      const m = await store.get(normalizeGroupPath(hrPath))
      return m && inDivisions(client, m.division) ? m : undefined
    },
  }
}

export type MappingService = ReturnType<typeof createMappingService>
