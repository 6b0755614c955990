import type { AuthenticatedClient } from '../config/clients.js'
import { errors, type Issue } from '../errors.js'
import { queueReferencesTo, type GenesysClient } from '../genesys/client.js'
import type { Queue } from '../genesys/types.js'
import { groupPathSegments, normalizeGroupPath } from '../pipeline/static-checks.js'
import type { Clock } from '../provisioning/ports.js'
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
}

/** A client may touch what lies in its divisions. */
export function inDivisions (client: Pick<AuthenticatedClient, 'divisions'>, division: string): boolean {
  return client.divisions === '*' || client.divisions.includes(division)
}

/** Checks an HR group path from a URL and returns its canonical form, or throws 422. */
export function canonicalGroupPath (raw: string, maxDepth: number): string {
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

export function createMappingService (deps: { store: MappingStore, directory: MappingDirectory, queueLock: QueueLock, clock: Clock, maxGroupDepth: number }) {
  const { store, directory, queueLock } = deps

  /** One locked read-modify-write of a queue's member groups (other member groups and their types are kept). */
  const addToQueue = (queueId: string, group: { id: string }) => queueLock.withLock(queueId, () =>
    directory.queues.updateMemberGroups(queueId, (current) => (current.some((g) => g.id === group.id) ? current : [...current, { id: group.id, type: 'GROUP' }])))
  const removeFromQueue = (queueId: string, group: { id: string, name: string }) => queueLock.withLock(queueId, () =>
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

  async function defaultDivision (client: AuthenticatedClient): Promise<string> {
    if (client.divisions !== '*' && client.divisions.length === 1 && client.divisions[0] !== undefined) return client.divisions[0]
    if (client.divisions === '*') return (await directory.divisions.home()).name
    throw errors.policy('The mapping needs a division.', [{ code: 'division.required', path: '/division', message: 'this client may use several divisions: name the one the mapping belongs to' }])
  }

  return {
    list: async (client: AuthenticatedClient) => (await store.list()).filter((m) => inDivisions(client, m.division)),

    get: (client: AuthenticatedClient, rawPath: string) => readable(client, canonicalGroupPath(rawPath, deps.maxGroupDepth)),

    /** Creates or replaces a mapping and applies it upstream. */
    async put (client: AuthenticatedClient, rawPath: string, input: MappingInput): Promise<{ mapping: GroupMapping, created: boolean }> {
      const hrPath = canonicalGroupPath(rawPath, deps.maxGroupDepth)
      const division = input.division ?? await defaultDivision(client)
      if (!inDivisions(client, division)) throw errors.forbidden(`This client may not use division "${division}".`)
      const existing = await store.get(hrPath)
      if (existing && !inDivisions(client, existing.division)) throw errors.forbidden(`The mapping for "${hrPath}" belongs to a division this client may not use.`)

      const issues: Issue[] = []
      const [divisionFound, groupFound, queues] = await Promise.all([
        directory.divisions.byName(division),
        directory.groups.findByDisplayName(input.genesysGroup),
        Promise.all(input.queues.map(async (name) => ({ name, found: await directory.queues.byName(name) }))),
      ])
      if (!divisionFound) issues.push({ code: 'division.notFound', path: '/division', message: `division "${division}" does not exist in Genesys Cloud` })
      if (!groupFound && !input.create) {
        issues.push({ code: 'group.notFound', path: '/genesysGroup', message: `Genesys group "${input.genesysGroup}" does not exist; send "create": true to create it` })
      }
      queues.forEach((q, i) => {
        if (!q.found) issues.push({ code: 'queue.notFound', path: `/queues/${i}`, message: `queue "${q.name}" does not exist` })
        else if (q.found.division?.name !== undefined && q.found.division.name !== division) {
          issues.push({ code: 'queue.otherDivision', path: `/queues/${i}`, message: `queue "${q.name}" is in division "${q.found.division.name}", not "${division}"` })
        }
      })
      if (issues.length > 0) throw errors.policy('The mapping cannot be applied.', issues)

      const group = groupFound
        ? { id: groupFound.id, name: groupFound.displayName }
        : await directory.platformGroups.create({ name: input.genesysGroup, description: `Fed by HR group ${hrPath}` }).then((g) => ({ id: g.id, name: g.name }))
      const wanted = queues.map((q) => ({ id: q.found?.id ?? '', name: q.name }))
      // Queues this mapping used to feed (or an old group it used to name) are let go.
      const released = existing ? existing.queues.filter((q) => !(existing.genesysGroup.id === group.id && wanted.some((w) => w.id === q.id))) : []
      // A release routing still depends on is refused before anything is written.
      for (const q of released) {
        const queue = await directory.queues.get(q.id)
        const refs = existing ? queueReferencesTo(queue, existing.genesysGroup.id) : []
        if (existing && refs.length > 0) throw stillReferenced(queue, existing.genesysGroup, refs)
      }
      for (const q of wanted) await addToQueue(q.id, group)
      if (existing) for (const q of released) await removeFromQueue(q.id, existing.genesysGroup)
      const now = new Date(deps.clock.now()).toISOString()
      const mapping: GroupMapping = { hrPath, division, genesysGroup: group, queues: wanted, createdAt: existing?.createdAt ?? now, updatedAt: now, updatedBy: client.id }
      await store.put(mapping)
      return { mapping, created: existing === undefined }
    },

    /** Forgets a mapping; the Genesys group and its queue memberships stay as they are. */
    async delete (client: AuthenticatedClient, rawPath: string): Promise<void> {
      const hrPath = canonicalGroupPath(rawPath, deps.maxGroupDepth)
      const existing = await store.get(hrPath)
      if (!existing) throw errors.notFound(`No group mapping for "${hrPath}".`)
      if (!inDivisions(client, existing.division)) throw errors.forbidden(`The mapping for "${hrPath}" belongs to a division this client may not use.`)
      await store.delete(hrPath)
    },

    /** The group an HR path feeds for a client, when a mapping in its divisions exists. */
    async resolve (client: Pick<AuthenticatedClient, 'divisions'>, hrPath: string): Promise<GroupMapping | undefined> {
      const m = await store.get(normalizeGroupPath(hrPath))
      return m && inDivisions(client, m.division) ? m : undefined
    },
  }
}

export type MappingService = ReturnType<typeof createMappingService>
