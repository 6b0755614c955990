import { SCIM_ENTERPRISE_USER, type ScimUser } from '../genesys/types.js'
import type { WorkerEntry } from '../provisioning/registry.js'
import type { DriftFinding } from './ports.js'

type Found = Omit<DriftFinding, 'clientId' | 'hrId' | 'genesysUserId' | 'detectedAt' | 'runId'>
const lower = (s: string | undefined) => (s ?? '').toLowerCase()

/**
 * How Genesys differs from what the service did to one worker: its user gone
 * or (de)activated, its division changed, a role the service granted no longer
 * held (by name: SCIM lists a user's roles without their divisions), a group
 * the service added it to left, its email edited. Only the service's own
 * grants and memberships are compared: others' are not its business.
 */
export function driftOf (entry: WorkerEntry, user: ScimUser | 'deleted', roleNames: ReadonlyMap<string, string>): Found[] {
  if (user === 'deleted') return entry.deletedAt === undefined ? [{ kind: 'user.deleted', detail: {} }] : []
  const found: Found[] = []
  const active = user.active !== false
  if (entry.active && !active) found.push({ kind: 'user.deactivated', detail: {} })
  if (!entry.active && active && entry.deletedAt === undefined) found.push({ kind: 'user.reactivated', detail: {} })
  if (!entry.active) return found
  const division = user[SCIM_ENTERPRISE_USER]?.division
  if (division !== undefined && lower(division) !== lower(entry.divisionName)) found.push({ kind: 'division.changed', detail: { recorded: entry.divisionName, genesys: division } })
  const held = new Set((user.roles ?? []).map((r) => lower(r.value)))
  for (const g of entry.grants) {
    const name = roleNames.get(g.roleId)
    if (name !== undefined && !held.has(lower(name))) found.push({ kind: 'role.removed', detail: { roleId: g.roleId, role: name, divisionId: g.divisionId } })
  }
  const groups = new Set((user.groups ?? []).map((g) => g.value))
  for (const id of entry.groups) if (!groups.has(id)) found.push({ kind: 'group.removed', detail: { groupId: id } })
  const email = entry.desired?.email
  if (email !== undefined && lower(email) !== lower(user.userName)) found.push({ kind: 'attribute.changed', detail: { attribute: 'email', recorded: email, genesys: user.userName } })
  return found
}
