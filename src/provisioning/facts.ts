import { externalIdFor, type ApiClient } from '../config/clients.js'
import type { GenesysClient } from '../genesys/client.js'
import { SCIM_ENTERPRISE_USER, type NamedEntity, type Role, type ScimUser } from '../genesys/types.js'
import type { NewHireBody } from './model.js'
import type { RolePolicy } from './checks/permissions.js'
import { groupPathSegments, normalizeGroupPath } from './checks/static-checks.js'
import type { UpstreamFacts } from './checks/upstream-checks.js'
import type { Clock } from '../lib/timers.js'
import { isOthersCallLimit } from '../genesys/call-limit.js'
import type { Candidate, WorkerOwner, WorkerRegistry } from './registry.js'
import type { SharedDirectoryCache } from './ports.js'

/** The slice of the Genesys client the validation reads (never writes). */
export type Directory = {
  users: Pick<GenesysClient['users'], 'findByUserName' | 'findByExternalId'>
  groups: Pick<GenesysClient['groups'], 'findByDisplayName'>
  roles: Pick<GenesysClient['roles'], 'byName' | 'byId'>
  divisions: Pick<GenesysClient['divisions'], 'byName' | 'home'>
  routing: Pick<GenesysClient['routing'], 'skillByName' | 'languageByName'>
}

/** A division resolved to its Genesys identity: checks compare ids, never spelling. */
export interface DivisionRef { id: string, name: string }

/** Maps an HR group path to the Genesys group it feeds, for a hire in `division`. */
export interface GroupResolver {
  resolve (hrPath: string, division: DivisionRef, opts?: { fallback?: boolean, allDivisions?: boolean }): Promise<{ groupName: string, found?: { id: string, name: string } }>
  /** Whether the path still feeds that group for the division (read again just before a join; no Genesys call). */
  stillFeeds (hrPath: string, division: DivisionRef, groupId: string, opts?: { fallback?: boolean, allDivisions?: boolean }): Promise<boolean>
}

/** Which division (id) owns a Genesys group through a mapping; undefined for a group no mapping claims. */
export interface GroupOwners {
  ownerOf (groupId: string): Promise<string | undefined>
}

/**
 * Without an explicit mapping, an HR path feeds the Genesys group named like its
 * last segment, but only a group the hire's division owns (claimed by one of its
 * mappings): a name alone never joins another tenant's group. A client of every
 * division (`"*"`, the org's own HR system) has no other tenant to keep out, so
 * any group of that name is its own.
 */
export function createNameGroupResolver (directory: Pick<Directory, 'groups'>, owners: GroupOwners): GroupResolver {
  return {
    async resolve (hrPath, division, opts) {
      const segments = groupPathSegments(hrPath)
      const groupName = segments[segments.length - 1] ?? hrPath
      if (opts?.fallback === false) return { groupName }
      const group = await directory.groups.findByDisplayName(groupName)
      if (!group) return { groupName }
      if (opts?.allDivisions !== true && (await owners.ownerOf(group.id)) !== division.id) return { groupName }
      return { groupName, found: { id: group.id, name: group.displayName } }
    },
    async stillFeeds (_hrPath, division, groupId, opts) {
      if (opts?.fallback === false) return false
      return opts?.allDivisions === true || (await owners.ownerOf(groupId)) === division.id
    },
  }
}

/**
 * An HR path mapped for the hire's division feeds the mapped group; a path
 * mapped for another division feeds nothing (one tenant's hire never joins
 * another tenant's group); an unmapped path falls back (see above).
 */
export function createMappedGroupResolver (mappings: { get (hrPath: string): Promise<{ division: string, divisionId?: string, genesysGroup: { id: string, name: string } } | undefined> }, fallback: GroupResolver): GroupResolver {
  return {
    async resolve (hrPath, division, opts) {
      const mapping = await mappings.get(normalizeGroupPath(hrPath))
      if (!mapping) return fallback.resolve(hrPath, division, opts)
      const same = mapping.divisionId !== undefined ? mapping.divisionId === division.id : mapping.division === division.name
      if (!same) return { groupName: mapping.genesysGroup.name }
      return { groupName: mapping.genesysGroup.name, found: mapping.genesysGroup }
    },
    async stillFeeds (hrPath, division, groupId, opts) {
      const mapping = await mappings.get(normalizeGroupPath(hrPath))
      if (!mapping) return fallback.stillFeeds(hrPath, division, groupId, opts)
      const same = mapping.divisionId !== undefined ? mapping.divisionId === division.id : mapping.division === division.name
      return same && mapping.genesysGroup.id === groupId
    },
  }
}

/** A name Genesys does not know is looked up again after this long at most (a role created a moment ago is found soon). */
export const MISS_TTL_MS = 5000

/**
 * Reference data (roles, divisions, groups, skills, languages) changes rarely
 * while every hire needs it: found entries are reused for `ttlMs`, misses for
 * at most `MISS_TTL_MS`, and concurrent lookups of one name share a call. With
 * a `shared` cache (Redis), what one replica found serves the others: a name
 * is read from Genesys once per TTL for the whole fleet. A shared cache that
 * cannot be reached is passed by, never a reason to fail.
 */
export function createReferenceCache (clock: Clock, ttlMs: number, shared?: SharedDirectoryCache) {
  const missTtlMs = Math.min(ttlMs, MISS_TTL_MS)
  const entries = new Map<string, { until: number, value: Promise<unknown> }>()
  async function fetched<T> (key: string, load: () => Promise<T | undefined>): Promise<T | undefined> {
    if (!shared || ttlMs === 0) return load()
    const hit = await shared.get(key).catch(() => undefined)
    if (hit) return hit.found ? hit.value as T : undefined
    const loaded = await load()
    await shared.set(key, loaded === undefined ? { found: false } : { found: true, value: loaded }, loaded === undefined ? missTtlMs : ttlMs).catch(() => {})
    return loaded
  }
  async function cached<T> (key: string, load: () => Promise<T | undefined>): Promise<T | undefined> {
    const hit = entries.get(key)
    if (hit && clock.now() < hit.until) {
      return (hit.value as Promise<T | undefined>).catch((err: unknown) => {
        // Started by work that ran out of Genesys calls: this caller loads it itself.
        if (isOthersCallLimit(err)) return cached(key, load)
        throw err
      })
    }
    const value = fetched(key, load)
    entries.set(key, { until: clock.now() + ttlMs, value })
    try {
      const result = await value
      if (result === undefined) entries.set(key, { until: clock.now() + missTtlMs, value })
      return result
    } catch (err) {
      entries.delete(key)
      throw err
    }
  }
  /** Forgets everything, here and fleet-wide: an id taken from the cache answered 404 (deleted or renamed upstream). */
  return Object.assign(cached, {
    clear: async () => {
      entries.clear()
      await shared?.clear().catch(() => {})
    },
  })
}

export type ReferenceCache = ReturnType<typeof createReferenceCache>

/** Who is asking: the client's namespace and divisions decide what it may adopt. */
export interface Requester {
  clientId: string
  divisions: string[] | '*'
  /** This client's Genesys externalId of an HR id. */
  externalIdOf (hrId: string): string
  /** Whether unmapped HR paths may fall back to a group named like their last segment. */
  groupFallback: boolean
}

export interface FactSources {
  directory: Directory
  groups: GroupResolver
  cache: ReferenceCache
  registry: Pick<WorkerRegistry, 'get' | 'ownerOf'>
  requester: Requester
  /** Who else holds this email's reservation (undefined: nobody, or this request). */
  reservedBy: () => Promise<string | undefined>
  /** Who else holds this externalId's reservation. */
  externalIdReservedBy: () => Promise<string | undefined>
}

/** A division by name, through the reference cache. */
export function divisionByName (src: Pick<FactSources, 'directory' | 'cache'>, name: string): Promise<DivisionRef | undefined> {
  return src.cache(`division:${name}`, () => src.directory.divisions.byName(name)).then((d) => (d ? { id: d.id, name: d.name } : undefined))
}

/** The ids of the divisions a client may use ('*' = all); names Genesys does not know are left out. */
export async function divisionIdsOf (src: Pick<FactSources, 'directory' | 'cache'>, divisions: string[] | '*'): Promise<Set<string> | '*'> {
  if (divisions === '*') return '*'
  const found = await Promise.all(divisions.map((name) => divisionByName(src, name)))
  return new Set(found.flatMap((d) => (d ? [d.id] : [])))
}

/** A Genesys user as an adoption candidate, with its division resolved to an id and its registry owner. */
export async function candidateOf (src: Pick<FactSources, 'directory' | 'cache' | 'registry'>, user: ScimUser): Promise<Candidate & { owner?: WorkerOwner }> {
  const divisionName = user[SCIM_ENTERPRISE_USER]?.division
  const [division, owner] = await Promise.all([
    divisionName === undefined ? Promise.resolve(undefined) : divisionByName(src, divisionName),
    src.registry.ownerOf(user.id),
  ])
  return {
    id: user.id,
    userName: user.userName,
    ...(user.externalId !== undefined ? { externalId: user.externalId } : {}),
    active: user.active !== false,
    ...(division ? { divisionId: division.id } : {}),
    ...(owner ? { owner } : {}),
  }
}

const canonical = (name: string, e: NamedEntity | undefined) => ({ name, ...(e ? { found: { id: e.id, name: e.name } } : {}) })

/**
 * A role with its permission policies. `permissionPolicies` is optional in
 * Genesys' role models and a listing may leave it out: the role is then read
 * by id, and when even that omits it the fact says so (the check refuses it).
 */
async function roleWithPolicies (directory: Pick<Directory, 'roles'>, name: string): Promise<Role | undefined> {
  const listed = await directory.roles.byName(name)
  if (!listed || listed.permissionPolicies !== undefined) return listed
  const full = await directory.roles.byId(listed.id)
  return { ...full, permissions: full.permissions ?? listed.permissions }
}

/**
 * The Genesys users that already hold the hire's email or this client's
 * externalId, as adoption candidates (two SCIM filter reads).
 */
export async function userCandidates (hire: Pick<NewHireBody, 'hrId' | 'email'>, src: Pick<FactSources, 'directory' | 'cache' | 'registry' | 'requester'>): Promise<UpstreamFacts['candidates']> {
  const [emailOwner, byExternalId] = await Promise.all([
    src.directory.users.findByUserName(hire.email),
    src.directory.users.findByExternalId(src.requester.externalIdOf(hire.hrId)),
  ])
  const users = [...(emailOwner ? [emailOwner] : []), ...byExternalId.filter((u) => u.id !== emailOwner?.id)]
  return Promise.all(users.map((u) => candidateOf(src, u)))
}

/**
 * Everything the upstream policy needs, looked up in parallel (the rate budget
 * paces the calls). With `users: false` the holders of the email and
 * externalId are not looked up (no candidates): a first create needs no
 * lookup, since Genesys refuses it atomically (409) when either is taken.
 */
export async function gatherFacts (hire: NewHireBody, src: FactSources, opts: { users: boolean } = { users: true }): Promise<UpstreamFacts> {
  const { directory, cache, requester } = src
  const named = (kind: string, name: string, load: () => Promise<NamedEntity | undefined>) => cache(`${kind}:${name}`, load)
  const externalId = requester.externalIdOf(hire.hrId)

  const divisionFact = hire.division === undefined
    ? cache('division:home', () => directory.divisions.home()).then((d) => ({ name: d?.name ?? 'home', requested: false, ...(d ? { found: { id: d.id, name: d.name } } : {}) }))
    : divisionByName(src, hire.division).then((d) => ({ name: hire.division ?? '', requested: true, ...(d ? { found: d } : {}) }))
  const [candidates, reservedBy, externalIdReservedBy, divisionIds, division, roles, groups, manager, skills, languages] = await Promise.all([
    opts.users ? userCandidates(hire, src) : Promise.resolve([]),
    src.reservedBy(),
    src.externalIdReservedBy(),
    divisionIdsOf(src, requester.divisions),
    divisionFact,
    Promise.all((hire.roles ?? []).map(async (name) => {
      const role = await cache(`role:${name}`, () => roleWithPolicies(directory, name))
      const found = role
        ? {
            id: role.id,
            name: role.name,
            ...(role.permissionPolicies ? { permissionPolicies: role.permissionPolicies.map((p): RolePolicy => ({ domain: p.domain, entityName: p.entityName, actionSet: p.actionSet })) } : {}),
            permissions: role.permissions ?? [],
          }
        : undefined
      return { name, ...(found ? { found } : {}) }
    })),
    Promise.all((hire.groups ?? []).map(async (path) => {
      // Group mappings belong to a division: the hire's division (by id) picks among them.
      const d = (await divisionFact).found
      const fallbackName = groupPathSegments(path).at(-1) ?? path
      if (!d) return { path, groupName: fallbackName }
      const mode = `${requester.groupFallback ? 'f' : 'n'}${requester.divisions === '*' ? '*' : ''}`
      const r = await cache(`group:${d.id}:${mode}:${path}`, async () => {
        const resolved = await src.groups.resolve(path, d, { fallback: requester.groupFallback, allDivisions: requester.divisions === '*' })
        return resolved.found ? resolved : undefined
      })
      return r ? { path, groupName: r.groupName, found: r.found } : { path, groupName: fallbackName }
    })),
    hire.managerHrId === undefined ? Promise.resolve(undefined) : managerOf(src, hire.managerHrId),
    Promise.all((hire.skills ?? []).map(async (s) => canonical(s.name, await named('skill', s.name, () => directory.routing.skillByName(s.name))))),
    Promise.all((hire.languages ?? []).map(async (s) => canonical(s.name, await named('language', s.name, () => directory.routing.languageByName(s.name))))),
  ])

  return {
    ownership: { clientId: requester.clientId, externalId, divisionIds: divisionIds === '*' ? '*' : [...divisionIds] },
    candidates,
    ...(reservedBy !== undefined ? { emailReservedBy: reservedBy } : {}),
    ...(externalIdReservedBy !== undefined ? { externalIdReservedBy } : {}),
    division,
    roles,
    groups,
    ...(manager ? { manager } : {}),
    skills,
    languages,
  }
}

/**
 * A manager is one of this client's workers: the registry first, then a user
 * carrying this client's externalId for the HR id in one of its divisions.
 * Another tenant's user with the same HR id is never found.
 */
async function managerOf (src: FactSources, hrId: string): Promise<{ hrId: string, found?: { id: string, name?: string } }> {
  const managed = await src.registry.get(src.requester.clientId, hrId)
  if (managed) return { hrId, found: { id: managed.genesysUserId } }
  const [users, divisionIds] = await Promise.all([
    src.directory.users.findByExternalId(src.requester.externalIdOf(hrId)),
    divisionIdsOf(src, src.requester.divisions),
  ])
  for (const user of users) {
    const c = await candidateOf(src, user)
    const mine = c.owner ? c.owner.clientId === src.requester.clientId : (divisionIds === '*' || (c.divisionId !== undefined && divisionIds.has(c.divisionId)))
    if (mine) return { hrId, found: { id: user.id, name: user.displayName ?? user.userName } }
  }
  return { hrId }
}

/** The requester an API client is, for fact gathering and ownership checks. */
export function requesterOf (client: Pick<ApiClient, 'id' | 'divisions' | 'externalIdPrefix' | 'groupFallback'>): Requester {
  return {
    clientId: client.id,
    divisions: client.divisions,
    externalIdOf: (hrId) => externalIdFor(client, hrId),
    groupFallback: client.groupFallback ?? true,
  }
}
