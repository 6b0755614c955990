import type { GenesysClient } from '../genesys/client.js'
import type { NamedEntity, Role } from '../genesys/types.js'
import type { NewHireBody } from '../http/schemas/provisioning.js'
import type { RolePolicy } from '../pipeline/permissions.js'
import { groupPathSegments, normalizeGroupPath } from '../pipeline/static-checks.js'
import type { UpstreamFacts } from '../pipeline/upstream-checks.js'
import type { Clock } from './ports.js'

/** The slice of the Genesys client the validation reads (never writes). */
export type Directory = {
  users: Pick<GenesysClient['users'], 'findByUserName' | 'findByExternalId'>
  groups: Pick<GenesysClient['groups'], 'findByDisplayName'>
  roles: Pick<GenesysClient['roles'], 'byName' | 'byId'>
  divisions: Pick<GenesysClient['divisions'], 'byName' | 'home'>
  routing: Pick<GenesysClient['routing'], 'skillByName' | 'languageByName'>
}

/** Maps an HR group path to the Genesys group it feeds, for a hire in `division` (a name). */
export interface GroupResolver {
  resolve (hrPath: string, division: string): Promise<{ groupName: string, found?: { id: string, name: string } }>
}

/** Without an explicit mapping, an HR path feeds the Genesys group named like its last segment. */
export function createNameGroupResolver (directory: Pick<Directory, 'groups'>): GroupResolver {
  return {
    async resolve (hrPath) {
      const segments = groupPathSegments(hrPath)
      const groupName = segments[segments.length - 1] ?? hrPath
      const group = await directory.groups.findByDisplayName(groupName)
      return { groupName, ...(group ? { found: { id: group.id, name: group.displayName } } : {}) }
    },
  }
}

/**
 * An HR path mapped for the hire's division feeds the mapped group; a path
 * mapped for another division feeds nothing (one tenant's hire never joins
 * another tenant's group); an unmapped path falls back to the group named like
 * its last segment.
 */
export function createMappedGroupResolver (mappings: { get (hrPath: string): Promise<{ division: string, genesysGroup: { id: string, name: string } } | undefined> }, fallback: GroupResolver): GroupResolver {
  return {
    async resolve (hrPath, division) {
      const mapping = await mappings.get(normalizeGroupPath(hrPath))
      if (!mapping) return fallback.resolve(hrPath, division)
      if (mapping.division !== division) return { groupName: mapping.genesysGroup.name }
      return { groupName: mapping.genesysGroup.name, found: mapping.genesysGroup }
    },
  }
}

/**
 * Reference data (roles, divisions, groups, skills, languages) changes rarely
 * while every hire needs it: found entries are reused for `ttlMs`, concurrent
 * lookups of one name share a call, and misses are never cached (a role created
 * a second ago must be found).
 */
export function createReferenceCache (clock: Clock, ttlMs: number) {
  const entries = new Map<string, { at: number, value: Promise<unknown> }>()
  async function cached<T> (key: string, load: () => Promise<T | undefined>): Promise<T | undefined> {
    const hit = entries.get(key)
    if (hit && clock.now() - hit.at < ttlMs) return hit.value as Promise<T | undefined>
    const value = load()
    entries.set(key, { at: clock.now(), value })
    try {
      const result = await value
      if (result === undefined) entries.delete(key)
      return result
    } catch (err) {
      entries.delete(key)
      throw err
    }
  }
  /** Forgets everything: an id taken from the cache answered 404 (deleted or renamed upstream). */
  return Object.assign(cached, { clear: () => entries.clear() })
}

export type ReferenceCache = ReturnType<typeof createReferenceCache>

export interface FactSources {
  directory: Directory
  groups: GroupResolver
  cache: ReferenceCache
  /** Who else holds this email's reservation (undefined: nobody, or this request). */
  reservedBy: () => Promise<string | undefined>
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

/** Everything the upstream policy needs, looked up in parallel (the rate budget paces the calls). */
export async function gatherFacts (hire: NewHireBody, src: FactSources): Promise<UpstreamFacts> {
  const { directory, cache } = src
  const named = (kind: string, name: string, load: () => Promise<NamedEntity | undefined>) => cache(`${kind}:${name}`, load)

  const divisionFact = hire.division === undefined
    ? cache('division:home', () => directory.divisions.home()).then((d) => ({ name: d?.name ?? 'home', requested: false, ...(d ? { found: { id: d.id, name: d.name } } : {}) }))
    : cache(`division:${hire.division}`, () => directory.divisions.byName(hire.division ?? '')).then((d) => ({ name: hire.division ?? '', requested: true, ...(d ? { found: { id: d.id, name: d.name } } : {}) }))
  const [emailOwner, reservedBy, division, roles, groups, manager, skills, languages] = await Promise.all([
    directory.users.findByUserName(hire.email),
    src.reservedBy(),
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
      // Group mappings belong to a division: the hire's division picks among them.
      const divisionName = (await divisionFact).name
      const r = await cache(`group:${divisionName}:${path}`, async () => {
        const resolved = await src.groups.resolve(path, divisionName)
        return resolved.found ? resolved : undefined
      })
      return r ? { path, groupName: r.groupName, found: r.found } : { path, groupName: groupPathSegments(path).at(-1) ?? path }
    })),
    hire.managerHrId === undefined
      ? Promise.resolve(undefined)
      : directory.users.findByExternalId(hire.managerHrId).then((users) => ({
        hrId: hire.managerHrId ?? '',
        ...(users[0] ? { found: { id: users[0].id, name: users[0].displayName ?? users[0].userName } } : {}),
      })),
    Promise.all((hire.skills ?? []).map(async (s) => canonical(s.name, await named('skill', s.name, () => directory.routing.skillByName(s.name))))),
    Promise.all((hire.languages ?? []).map(async (s) => canonical(s.name, await named('language', s.name, () => directory.routing.languageByName(s.name))))),
  ])

  return {
    ...(emailOwner ? { emailOwner: { id: emailOwner.id, ...(emailOwner.externalId !== undefined ? { externalId: emailOwner.externalId } : {}) } } : {}),
    ...(reservedBy !== undefined ? { emailReservedBy: reservedBy } : {}),
    division,
    roles,
    groups,
    ...(manager ? { manager } : {}),
    skills,
    languages,
  }
}
