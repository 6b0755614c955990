import { canonicalJson } from '../lib/canonical-json.js'
import { SCIM_ENTERPRISE_USER, SCIM_GENESYS_USER, type PatchOperation, type ScimUser, type ScimUserInput } from '../genesys/types.js'

/**
 * The SCIM PATCH that brings a Genesys user to the desired attributes: one
 * `replace` per attribute the desired state sets and Genesys holds otherwise,
 * nothing for the rest (attributes the desired state does not mention stay as
 * Genesys has them). Never `roles` (grants are made per division, apart) and
 * never `active` (lifecycle steps of their own).
 */
export function userPatch (want: ScimUserInput, have: ScimUser): { operations: PatchOperation[], changed: string[] } {
  const operations: PatchOperation[] = []
  const changed: string[] = []
  const differs = (a: unknown, b: unknown) => canonicalJson(a ?? null) !== canonicalJson(b ?? null)
  const set = (path: string, name: string, value: unknown, current: unknown) => {
    if (value === undefined || !differs(value, current)) return
    operations.push({ op: 'replace', path, value })
    changed.push(name)
  }
  if (want.userName.toLowerCase() !== have.userName.toLowerCase()) {
    operations.push({ op: 'replace', path: 'userName', value: want.userName })
    changed.push('email')
  }
  set('displayName', 'displayName', want.displayName, have.displayName)
  set('title', 'title', want.title, have.title)
  const phones = (list: unknown) => (Array.isArray(list) ? list.map((p: { type?: unknown, value?: unknown }) => ({ type: p.type, value: p.value })) : undefined)
  if (want.phoneNumbers && differs(phones(want.phoneNumbers), phones((have as Record<string, unknown>).phoneNumbers))) {
    operations.push({ op: 'replace', path: 'phoneNumbers', value: want.phoneNumbers })
    changed.push('phoneNumbers')
  }
  const ent = have[SCIM_ENTERPRISE_USER]
  set(`${SCIM_ENTERPRISE_USER}:division`, 'division', want.enterprise?.division, ent?.division)
  set(`${SCIM_ENTERPRISE_USER}:department`, 'department', want.enterprise?.department, ent?.department)
  set(`${SCIM_ENTERPRISE_USER}:employeeNumber`, 'employeeNumber', want.enterprise?.employeeNumber, ent?.employeeNumber)
  set(`${SCIM_ENTERPRISE_USER}:manager`, 'manager', want.enterprise?.manager, ent?.manager === undefined ? undefined : { value: ent.manager.value })
  const gen = have[SCIM_GENESYS_USER]
  const proficiencies = (list: Array<{ name: string, proficiency?: number }> | undefined) => list?.map((p) => ({ name: p.name.toLowerCase(), proficiency: p.proficiency })).sort((a, b) => a.name.localeCompare(b.name))
  if (want.genesys?.routingSkills && differs(proficiencies(want.genesys.routingSkills), proficiencies(gen?.routingSkills))) {
    operations.push({ op: 'replace', path: `${SCIM_GENESYS_USER}:routingSkills`, value: want.genesys.routingSkills })
    changed.push('skills')
  }
  if (want.genesys?.routingLanguages && differs(proficiencies(want.genesys.routingLanguages), proficiencies(gen?.routingLanguages))) {
    operations.push({ op: 'replace', path: `${SCIM_GENESYS_USER}:routingLanguages`, value: want.genesys.routingLanguages })
    changed.push('languages')
  }
  return { operations, changed }
}
