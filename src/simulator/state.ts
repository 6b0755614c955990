import type { PermissionPolicy, SeedClient, SimSeed } from './seed.js'

/**
 * The simulated org, held in Maps keyed by id. It is live: the simulator's
 * handlers mutate it and tests read it (`sim.state.users.get(id)`) to assert
 * what reached "Genesys". Derived views (a user's roles, groups) are computed
 * from grants and group memberships, as in Genesys, so they never disagree.
 */

export interface Contact { value: string, type?: string, primary?: boolean }
export interface Proficiency { name: string, proficiency: number }

export interface SimUser {
  id: string
  userName: string
  displayName: string
  /** `deleted` users stay in the map (for assertions) but are invisible to the API. */
  state: 'active' | 'inactive' | 'deleted'
  title?: string
  externalId?: string
  emails: Contact[]
  phoneNumbers: Contact[]
  divisionId: string
  department?: string
  employeeNumber?: string
  managerId?: string
  dateHire?: string
  routingSkills: Proficiency[]
  routingLanguages: Proficiency[]
  /** Genesys-extension externalIds other than the `x-pc:scimv2:v1` one (which mirrors `externalId`). */
  otherExternalIds: Array<{ authority: string, value: string }>
  version: number
  created: string
  lastModified: string
  /** Clock time (ms) before which list and filter queries do not see the user: eventual consistency. */
  visibleAt: number
}

export interface SimGroup {
  id: string
  name: string
  description?: string
  type: 'official' | 'social'
  visibility: 'public' | 'members'
  rulesVisible: boolean
  /** Individually added members, in insertion order. */
  memberIds: string[]
  version: number
  dateModified: string
}

export interface SimGrant { subjectId: string, roleId: string, divisionId: string, grantMadeAt: string }

export type MemberGroupType = 'GROUP' | 'TEAM' | 'SKILLGROUP'
/** A queue member group: an official group, a work team or a skill group. */
export interface SimMemberGroup { id: string, type: MemberGroupType }

/** A conditional group routing rule; rule 1 always evaluates its own queue. */
export interface SimCgrRule {
  /** The queue a later rule evaluates (rules after the first only). */
  evaluatedQueueId?: string
  groups: SimMemberGroup[]
  /** metric, operator, conditionValue, waitSeconds…: kept as sent. */
  extra: Record<string, unknown>
}

export interface SimRing {
  memberGroups: SimMemberGroup[]
  /** expansionCriteria, actions…: kept as sent. */
  extra: Record<string, unknown>
}

export interface SimQueue {
  id: string
  name: string
  description?: string
  divisionId: string
  memberGroups: SimMemberGroup[]
  conditionalGroupRouting?: { rules: SimCgrRule[] }
  bullseye?: { rings: SimRing[] }
  /** Attributes a PUT sent that the simulator does not interpret (media settings, ACW…), echoed back as sent. */
  extra: Record<string, unknown>
  version: number
  dateCreated: string
  dateModified: string
}

export interface SimRole {
  id: string
  name: string
  description?: string
  default: boolean
  base: boolean
  permissionPolicies: PermissionPolicy[]
  /** Legacy permission strings. */
  permissions: string[]
}

export interface SimDivision { id: string, name: string, description?: string, homeDivision: boolean }
export interface SimNamed { id: string, name: string, dateModified: string }

export interface SimState {
  clients: SeedClient[]
  divisions: Map<string, SimDivision>
  roles: Map<string, SimRole>
  skills: Map<string, SimNamed>
  languages: Map<string, SimNamed>
  users: Map<string, SimUser>
  groups: Map<string, SimGroup>
  /** Work teams and skill groups (queue member groups of type TEAM and SKILLGROUP). */
  teams: Map<string, SimNamed>
  skillGroups: Map<string, SimNamed>
  /** Grants by subject id. */
  grants: Map<string, SimGrant[]>
  queues: Map<string, SimQueue>
}

const byId = <T extends { id: string }>(list: T[]): Map<string, T> => new Map(list.map((x) => [x.id, x]))

export function createState (seed: SimSeed, nowIso: string): SimState {
  const divisions = byId(seed.divisions.map((d) => ({ id: d.id, name: d.name, description: d.description, homeDivision: d.homeDivision === true })))
  const state: SimState = {
    clients: seed.clients.map((c) => ({ ...c, permissions: [...c.permissions], ...(c.divisionPermissions ? { divisionPermissions: c.divisionPermissions.map((d) => ({ ...d, permissions: [...d.permissions] })) } : {}) })),
    divisions,
    roles: byId(seed.roles.map((r) => ({
      id: r.id,
      name: r.name,
      description: r.description,
      default: r.default === true,
      base: r.base === true,
      permissionPolicies: r.permissionPolicies.map((p) => ({ ...p, actionSet: [...p.actionSet] })),
      permissions: [...(r.permissions ?? [])],
    }))),
    skills: byId(seed.skills.map((s) => ({ ...s, dateModified: nowIso }))),
    languages: byId(seed.languages.map((l) => ({ ...l, dateModified: nowIso }))),
    users: new Map(),
    groups: new Map(),
    teams: byId((seed.teams ?? []).map((x) => ({ ...x, dateModified: nowIso }))),
    skillGroups: byId((seed.skillGroups ?? []).map((x) => ({ ...x, dateModified: nowIso }))),
    grants: new Map(),
    queues: new Map(),
  }
  const home = homeDivision(state)
  const divisionId = (name: string | undefined): string => (name === undefined ? home.id : findDivisionByName(state, name)?.id ?? home.id)
  for (const u of seed.users) {
    const user: SimUser = {
      id: u.id,
      userName: u.userName,
      displayName: u.displayName,
      state: u.state,
      title: u.title,
      externalId: u.externalId,
      emails: (u.emails ?? []).map((e) => ({ ...e })),
      phoneNumbers: (u.phoneNumbers ?? []).map((p) => ({ ...p })),
      divisionId: divisionId(u.division),
      department: u.department,
      employeeNumber: u.employeeNumber,
      managerId: u.managerId,
      dateHire: u.dateHire,
      routingSkills: (u.routingSkills ?? []).map((s) => ({ ...s })),
      routingLanguages: (u.routingLanguages ?? []).map((l) => ({ ...l })),
      otherExternalIds: [],
      version: 1,
      created: nowIso,
      lastModified: nowIso,
      visibleAt: 0,
    }
    state.users.set(user.id, user)
    // Deleted users have lost their grants, as in Genesys.
    if (u.state === 'deleted') continue
    for (const roleName of u.roles ?? []) {
      const role = findRoleByName(state, roleName)
      if (role) addGrant(state, user.id, role.id, user.divisionId, nowIso)
    }
  }
  for (const g of seed.groups) {
    state.groups.set(g.id, {
      id: g.id,
      name: g.name,
      description: g.description,
      type: 'official',
      visibility: g.visibility ?? 'public',
      rulesVisible: true,
      memberIds: (g.memberIds ?? []).filter((m) => state.users.get(m)?.state !== 'deleted'),
      version: 1,
      dateModified: nowIso,
    })
  }
  for (const q of seed.queues) {
    state.queues.set(q.id, {
      id: q.id,
      name: q.name,
      description: q.description,
      divisionId: divisionId(q.division),
      memberGroups: [...(q.memberGroupIds ?? []).map((id): SimMemberGroup => ({ id, type: 'GROUP' })), ...(q.memberGroups ?? []).map((m) => ({ ...m }))],
      ...(q.conditionalGroupRouting
        ? {
            conditionalGroupRouting: {
              rules: q.conditionalGroupRouting.rules.map(({ groups, evaluatedQueueId, ...extra }) => ({ groups: groups.map((m) => ({ ...m })), ...(evaluatedQueueId ? { evaluatedQueueId } : {}), extra })),
            },
          }
        : {}),
      ...(q.bullseye
        ? {
            bullseye: {
              rings: q.bullseye.rings.map((r) => ({
                memberGroups: r.memberGroups.map((m) => ({ ...m })),
                extra: r.expansionTimeoutSeconds === undefined ? {} : { expansionCriteria: [{ type: 'TIMEOUT_SECONDS', threshold: r.expansionTimeoutSeconds }] },
              })),
            },
          }
        : {}),
      extra: {},
      version: 1,
      dateCreated: nowIso,
      dateModified: nowIso,
    })
  }
  return state
}

export function homeDivision (state: SimState): SimDivision {
  for (const d of state.divisions.values()) if (d.homeDivision) return d
  // The seed validator guarantees one; a test that removed it gets a clear failure.
  throw new Error('the simulated org has no home division')
}

const sameName = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase()

/** Division and role names are unique regardless of case in Genesys; matched case-insensitively. */
export function findDivisionByName (state: SimState, name: string): SimDivision | undefined {
  for (const d of state.divisions.values()) if (sameName(d.name, name)) return d
  return undefined
}

export function findRoleByName (state: SimState, name: string): SimRole | undefined {
  for (const r of state.roles.values()) if (sameName(r.name, name)) return r
  return undefined
}

export function findGroupByName (state: SimState, name: string): SimGroup | undefined {
  for (const g of state.groups.values()) if (sameName(g.name, name)) return g
  return undefined
}

/** A non-deleted user, or undefined: deleted users are gone as far as the API is concerned. */
export function liveUser (state: SimState, id: string): SimUser | undefined {
  const u = state.users.get(id)
  return u === undefined || u.state === 'deleted' ? undefined : u
}

/** The non-deleted user holding `userName` (case-insensitive, as Genesys logins are). */
export function userByUserName (state: SimState, userName: string, exceptId?: string): SimUser | undefined {
  const wanted = userName.toLowerCase()
  for (const u of state.users.values()) {
    if (u.state !== 'deleted' && u.id !== exceptId && u.userName.toLowerCase() === wanted) return u
  }
  return undefined
}

/** The non-deleted user carrying this SCIM `externalId` (unique in the org, as Genesys requires). */
export function userByExternalId (state: SimState, externalId: string | undefined, exceptId?: string): SimUser | undefined {
  if (externalId === undefined) return undefined
  for (const u of state.users.values()) {
    if (u.state !== 'deleted' && u.id !== exceptId && u.externalId === externalId) return u
  }
  return undefined
}

export function grantsOf (state: SimState, subjectId: string): SimGrant[] {
  return state.grants.get(subjectId) ?? []
}

/** Idempotent: granting what is already granted changes nothing (and keeps the first grant time). */
export function addGrant (state: SimState, subjectId: string, roleId: string, divisionId: string, at: string): boolean {
  const list = state.grants.get(subjectId) ?? []
  if (list.some((g) => g.roleId === roleId && g.divisionId === divisionId)) return false
  list.push({ subjectId, roleId, divisionId, grantMadeAt: at })
  state.grants.set(subjectId, list)
  return true
}

/** The distinct roles a subject holds in any division, in grant order. */
export function rolesOf (state: SimState, subjectId: string): SimRole[] {
  const seen = new Set<string>()
  const roles: SimRole[] = []
  for (const g of grantsOf(state, subjectId)) {
    const role = state.roles.get(g.roleId)
    if (role && !seen.has(role.id)) {
      seen.add(role.id)
      roles.push(role)
    }
  }
  return roles
}

/**
 * Makes a user's role set equal to `roleIds`: roles no longer wanted lose their
 * grants in every division, new ones are granted in `divisionId`.
 */
export function setRoles (state: SimState, subjectId: string, roleIds: string[], divisionId: string, at: string): void {
  const wanted = new Set(roleIds)
  const kept = grantsOf(state, subjectId).filter((g) => wanted.has(g.roleId))
  state.grants.set(subjectId, kept)
  for (const roleId of roleIds) {
    if (!kept.some((g) => g.roleId === roleId)) addGrant(state, subjectId, roleId, divisionId, at)
  }
}

export function groupsOf (state: SimState, userId: string): SimGroup[] {
  const out: SimGroup[] = []
  for (const g of state.groups.values()) if (g.memberIds.includes(userId)) out.push(g)
  return out
}

/** Soft delete: the user keeps its record but loses grants and group memberships. */
export function deleteUser (state: SimState, user: SimUser, at: string): void {
  user.state = 'deleted'
  user.version++
  user.lastModified = at
  state.grants.delete(user.id)
  for (const g of state.groups.values()) {
    const i = g.memberIds.indexOf(user.id)
    if (i >= 0) {
      g.memberIds.splice(i, 1)
      g.version++
      g.dateModified = at
    }
  }
}

/** Users reachable through a queue's member groups (distinct, non-deleted). */
export function queueMemberCount (state: SimState, queue: SimQueue): number {
  const ids = new Set<string>()
  for (const mg of queue.memberGroups) {
    if (mg.type !== 'GROUP') continue
    for (const m of state.groups.get(mg.id)?.memberIds ?? []) if (liveUser(state, m)) ids.add(m)
  }
  return ids.size
}

/** A JSON-friendly copy for `/__sim/state`; OAuth client secrets are left out. */
export function snapshotState (state: SimState): Record<string, unknown> {
  return {
    clients: state.clients.map((c) => ({ clientId: c.clientId, name: c.name, permissions: c.permissions, divisionPermissions: c.divisionPermissions, tokenLifetimeSeconds: c.tokenLifetimeSeconds })),
    divisions: [...state.divisions.values()],
    roles: [...state.roles.values()],
    skills: [...state.skills.values()],
    languages: [...state.languages.values()],
    users: [...state.users.values()].map((u) => ({ ...u, roles: rolesOf(state, u.id).map((r) => r.name) })),
    groups: [...state.groups.values()],
    teams: [...state.teams.values()],
    skillGroups: [...state.skillGroups.values()],
    grants: [...state.grants.values()].flat(),
    queues: [...state.queues.values()],
  }
}
