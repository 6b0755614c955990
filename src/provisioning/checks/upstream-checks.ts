import type { Issue } from '../../errors.js'
import type { ScimUserInput } from '../../genesys/types.js'
import type { NewHireBody } from '../model.js'
import { deniedPermissionsOf, legacyPermissionsOf, type PermissionPattern, type RolePolicy } from './permissions.js'
import { displayNameOf } from './static-checks.js'
import { adoptionVerdict, type Candidate, type WorkerOwner } from '../registry.js'

/**
 * Policy against live Genesys: the facts are gathered through the client by the
 * caller, the decisions here are pure functions of them (and table-tested).
 */

export interface UpstreamFacts {
  /** Who asks: its client id, its externalId for this HR id, the ids of its divisions. */
  ownership: { clientId: string, externalId: string, divisionIds: string[] | '*' }
  /** Non-deleted Genesys users (active or inactive) holding this email as userName or this externalId. */
  candidates: Array<Candidate & { owner?: WorkerOwner }>
  /** Another in-flight request holding this email's reservation. */
  emailReservedBy?: string
  /** Another in-flight request (possibly another client's) holding this externalId. */
  externalIdReservedBy?: string
  /** The division the user goes into: the one named, or the home division. */
  division: { name: string, requested: boolean, found?: { id: string, name: string } }
  /**
   * `permissionPolicies` undefined: Genesys did not say (the field is optional,
   * even on the role fetched by id), which is not proof of a harmless role.
   */
  roles: Array<{ name: string, found?: { id: string, name: string, permissionPolicies?: RolePolicy[], permissions?: string[] } }>
  groups: Array<{ path: string, groupName: string, found?: { id: string, name: string } }>
  manager?: { hrId: string, found?: { id: string, name?: string } }
  /** The canonical `{id, name}` found for each HR spelling; the plan sends that name. */
  skills: Array<{ name: string, found?: { id: string, name: string } }>
  languages: Array<{ name: string, found?: { id: string, name: string } }>
}

export interface PolicyOptions {
  denied: readonly PermissionPattern[]
}

export function upstreamIssues (hire: NewHireBody, facts: UpstreamFacts, opts: PolicyOptions): Issue[] {
  const issues: Issue[] = []
  // A user this client may adopt is this very hire (an earlier, interrupted run,
  // or a rehire); any other holder of the email or HR id is a refusal that names
  // no object the caller may not see.
  const { ownership } = facts
  const divisionIds = ownership.divisionIds === '*' ? '*' : new Set(ownership.divisionIds)
  for (const c of facts.candidates) {
    const verdict = adoptionVerdict(c, { clientId: ownership.clientId, hrId: hire.hrId, externalId: ownership.externalId, email: hire.email, divisionIds, ...(c.owner ? { owner: c.owner } : {}) })
    if (!verdict.adopt && !issues.some((i) => i.code === verdict.issue.code)) issues.push(verdict.issue)
  }
  if (facts.emailReservedBy !== undefined && !issues.some((i) => i.code === 'email.taken')) {
    issues.push({ code: 'email.taken', path: '/email', message: `${hire.email} is held by another provisioning request still in progress` })
  }
  if (facts.externalIdReservedBy !== undefined && !issues.some((i) => i.code === 'hrId.taken')) {
    issues.push({ code: 'hrId.taken', path: '/hrId', message: `HR id ${hire.hrId} is held by another provisioning request still in progress` })
  }

  if (!facts.division.found) {
    issues.push({ code: 'division.notFound', path: '/division', message: `Genesys has no division named "${facts.division.name}"` })
  } else if (divisionIds !== '*' && !divisionIds.has(facts.division.found.id)) {
    // Compared by id: a spelling that resolves to another division never passes.
    issues.push({ code: 'division.notAllowed', path: '/division', message: `this client may not provision into division "${facts.division.name}"` })
  }

  facts.roles.forEach((r, i) => {
    if (!r.found) {
      issues.push({ code: 'role.notFound', path: `/roles/${i}`, message: `Genesys has no role named "${r.name}"` })
      return
    }
    if (r.found.permissionPolicies === undefined) {
      issues.push({ code: 'role.unverifiable', path: `/roles/${i}`, message: `Genesys did not list the permission policies of role "${r.name}", not even when it was read by id; it is not granted until they can be checked` })
      return
    }
    const legacy = legacyPermissionsOf(r.found.permissions ?? [], opts.denied)
    if (legacy.unverifiable.length > 0) {
      issues.push({ code: 'role.unverifiable', path: `/roles/${i}`, message: `role "${r.name}" carries legacy permission${legacy.unverifiable.length > 1 ? 's' : ''} ${legacy.unverifiable.map((p) => `"${p}"`).join(', ')}, which cannot be checked against the deny list` })
    }
    const denied = [...new Set([...deniedPermissionsOf(r.found.permissionPolicies, opts.denied), ...legacy.denied])].sort()
    if (denied.length > 0) {
      issues.push({ code: 'role.deniedPermission', path: `/roles/${i}`, message: `role "${r.name}" grants denied permission${denied.length > 1 ? 's' : ''} ${denied.join(', ')}` })
    }
  })

  // Groups are looked up within the division: without one, the division's issue says it all.
  if (facts.division.found) facts.groups.forEach((g, i) => {
    if (!g.found) {
      issues.push({ code: 'group.notFound', path: `/groups/${i}`, message: `no Genesys group for HR group "${g.path}" (looked for "${g.groupName}")` })
    }
  })

  if (facts.manager && !facts.manager.found) {
    issues.push({ code: 'manager.notFound', path: '/managerHrId', message: `no Genesys user has HR id "${facts.manager.hrId}"` })
  }
  facts.skills.forEach((s, i) => {
    if (!s.found) issues.push({ code: 'skill.notFound', path: `/skills/${i}/name`, message: `Genesys has no routing skill named "${s.name}"` })
  })
  facts.languages.forEach((s, i) => {
    if (!s.found) issues.push({ code: 'language.notFound', path: `/languages/${i}/name`, message: `Genesys has no routing language named "${s.name}"` })
  })
  return issues
}

export interface Plan {
  scimUser: ScimUserInput
  /** The division the user lives in (absent in plans made before divisions were recorded). */
  division?: { id: string, name: string }
  grants: Array<{ roleId: string, roleName: string, divisionId: string, divisionName: string }>
  groups: Array<{ hrPath: string, groupId: string, groupName: string }>
}

/**
 * What a run will write. Roles are granted through the authorization API in the
 * request's division (SCIM `roles` would grant them in the home division only),
 * so the SCIM body carries no roles.
 */
export function buildPlan (hire: NewHireBody, facts: UpstreamFacts): Plan {
  const division = facts.division.found
  const enterprise: NonNullable<ScimUserInput['enterprise']> = {}
  if (division) enterprise.division = division.name
  if (hire.department !== undefined) enterprise.department = hire.department
  if (hire.employeeNumber !== undefined) enterprise.employeeNumber = hire.employeeNumber
  if (facts.manager?.found) enterprise.manager = { value: facts.manager.found.id }
  if (hire.startDate !== undefined) enterprise.dateHire = hire.startDate

  const genesys: NonNullable<ScimUserInput['genesys']> = {}
  // Genesys matches skill and language names exactly: send the spelling it listed, not the HR one.
  if (hire.skills && hire.skills.length > 0) genesys.routingSkills = hire.skills.map((s, i) => ({ name: facts.skills[i]?.found?.name ?? s.name, proficiency: s.proficiency }))
  if (hire.languages && hire.languages.length > 0) genesys.routingLanguages = hire.languages.map((s, i) => ({ name: facts.languages[i]?.found?.name ?? s.name, proficiency: s.proficiency }))

  const scimUser: ScimUserInput = {
    userName: hire.email,
    displayName: displayNameOf(hire),
    active: true,
    externalId: facts.ownership.externalId,
    // No `emails`: Genesys stores the userName as the read-only `other` email
    // already; a `work` email is sent only when it differs, and here it never does.
    ...(hire.title !== undefined ? { title: hire.title } : {}),
    ...(hire.phoneNumbers && hire.phoneNumbers.length > 0
      ? { phoneNumbers: hire.phoneNumbers.map((p, i) => ({ value: p.value, type: p.type, ...(i === 0 ? { primary: true } : {}) })) }
      : {}),
    ...(Object.keys(enterprise).length > 0 ? { enterprise } : {}),
    ...(Object.keys(genesys).length > 0 ? { genesys } : {}),
  }

  return {
    scimUser,
    ...(division ? { division: { id: division.id, name: division.name } } : {}),
    grants: division
      ? facts.roles.flatMap((r) => (r.found ? [{ roleId: r.found.id, roleName: r.found.name, divisionId: division.id, divisionName: division.name }] : []))
      : [],
    groups: facts.groups.flatMap((g) => (g.found ? [{ hrPath: g.path, groupId: g.found.id, groupName: g.found.name }] : [])),
  }
}
