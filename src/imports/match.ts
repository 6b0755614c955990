import { SCIM_ENTERPRISE_USER, type ScimUser } from '../genesys/types.js'
import type { WorkerDesired } from '../provisioning/model.js'
import type { WorkerOwner } from '../provisioning/registry.js'
import type { ImportDifferences, ImportRow, MatchedBy, RosterRecord, UnmanagedUser } from './ports.js'

export interface MatchInput {
  clientId: string
  records: readonly RosterRecord[]
  /** The Genesys users in the client's divisions. */
  users: readonly ScimUser[]
  /** The client's externalId form of an HR id. */
  externalIdOf: (hrId: string) => string
  /** Whether a user carrying the bare HR id (another provisioner's form) is this record's worker. */
  matchBareHrIds: boolean
  /** The Genesys user this client's registry already records for an HR id. */
  registered: ReadonlyMap<string, string>
  /** Who the registry says owns each of `users` (absent: nobody). */
  owners: ReadonlyMap<string, WorkerOwner>
}

export interface MatchResult {
  /** One row per record, in record order; `create` rows still need the org-wide email lookup. */
  rows: ImportRow[]
  /** The user each matched row found (by row index). */
  matchedUsers: Map<number, ScimUser>
  unmanaged: UnmanagedUser[]
}

const lower = (s: string | undefined) => (s ?? '').toLowerCase()

/**
 * Matches a roster to the users of the client's divisions, with no Genesys
 * call: the registry first, then this client's externalId form, then (when
 * allowed) the bare HR id, then the email. A record with two candidates, a
 * user another record took, a user managed for someone else, or an email
 * whose user carries another HR id is a conflict; conflicts name no user.
 */
export function matchRoster (input: MatchInput): MatchResult {
  const byId = new Map(input.users.map((u) => [u.id, u]))
  const byExternalId = new Map<string, ScimUser[]>()
  const byEmail = new Map<string, ScimUser[]>()
  for (const u of input.users) {
    if (u.externalId !== undefined) byExternalId.set(u.externalId, [...(byExternalId.get(u.externalId) ?? []), u])
    byEmail.set(lower(u.userName), [...(byEmail.get(lower(u.userName)) ?? []), u])
  }
  const taken = new Map<string, number>()
  const rows: ImportRow[] = []
  const matchedUsers = new Map<number, ScimUser>()
  for (const r of input.records) {
    const email = r.desired.email
    const head = { index: r.index, hrId: r.hrId, email }
    const conflict = (code: string, message: string): ImportRow => ({ ...head, outcome: 'conflict', conflict: { code, message } })
    const ours = input.externalIdOf(r.hrId)
    const registeredId = input.registered.get(r.hrId)
    const found = new Map<string, { user: ScimUser, by: MatchedBy }>()
    const add = (users: readonly ScimUser[] | undefined, by: MatchedBy) => { for (const u of users ?? []) if (!found.has(u.id)) found.set(u.id, { user: u, by }) }
    if (registeredId !== undefined) {
      const u = byId.get(registeredId)
      if (u) add([u], 'registry')
    }
    add(byExternalId.get(ours), 'externalId')
    if (input.matchBareHrIds && ours !== r.hrId) add(byExternalId.get(r.hrId), 'bareHrId')
    add(byEmail.get(lower(email)), 'email')
    const candidates = [...found.values()]
    if (registeredId !== undefined && !byId.has(registeredId)) {
      // Managed already, though not in the divisions read (moved away by hand): matched through the registry alone.
      rows.push({ ...head, outcome: 'matched', matchedBy: 'registry', genesysUserId: registeredId })
      continue
    }
    if (candidates.length === 0) {
      rows.push({ ...head, outcome: 'create' })
      continue
    }
    if (candidates.length > 1 && candidates[0]?.by !== 'registry') {
      rows.push(conflict('candidates.ambiguous', `${candidates.length} Genesys users in this client's divisions match this record (by HR id and by email); a person must decide`))
      continue
    }
    const { user, by } = candidates[0] as { user: ScimUser, by: MatchedBy }
    // An email alone claims a user only if it carries no HR id, or this record's in a form the client owns.
    const bareAllowed = input.matchBareHrIds && user.externalId === r.hrId
    if (by === 'email' && user.externalId !== undefined && user.externalId !== ours && !bareAllowed) {
      rows.push(conflict('email.otherHrId', `${email} belongs to a Genesys user that carries another HR id`))
      continue
    }
    const owner = input.owners.get(user.id)
    if (owner && (owner.clientId !== input.clientId || owner.hrId !== r.hrId)) {
      rows.push(conflict('owned.elsewhere', 'the matching Genesys user is already managed for another HR id or client'))
      continue
    }
    const earlier = taken.get(user.id)
    if (earlier !== undefined) {
      rows.push(conflict('user.sharedByRecords', `record ${earlier} matches the same Genesys user`))
      continue
    }
    taken.set(user.id, r.index)
    matchedUsers.set(r.index, user)
    rows.push({ ...head, outcome: 'matched', matchedBy: by, genesysUserId: user.id })
  }
  const unmanaged = input.users
    .filter((u) => !taken.has(u.id) && !input.owners.has(u.id))
    .map((u): UnmanagedUser => ({
      genesysUserId: u.id,
      userName: u.userName,
      active: u.active !== false,
      ...(u[SCIM_ENTERPRISE_USER]?.division !== undefined ? { division: u[SCIM_ENTERPRISE_USER]?.division } : {}),
      ...(u.externalId !== undefined ? { externalId: u.externalId } : {}),
    }))
  return { rows, matchedUsers, unmanaged }
}

/**
 * How a matched user differs from its record: division, active, email, roles
 * the user lacks, and HR groups whose Genesys group (`groupIdOf`, resolved by
 * the caller) the user is not in.
 */
export function differencesOf (user: ScimUser, desired: WorkerDesired, groupIdOf: ReadonlyMap<string, string | undefined>): ImportDifferences {
  const d: ImportDifferences = {}
  const division = user[SCIM_ENTERPRISE_USER]?.division
  if (desired.division !== undefined && division !== undefined && lower(division) !== lower(desired.division)) d.division = { genesys: division, roster: desired.division }
  const active = user.active !== false
  const rosterActive = (desired.status ?? 'active') === 'active'
  if (active !== rosterActive) d.active = { genesys: active, roster: rosterActive }
  if (lower(user.userName) !== lower(desired.email)) d.email = { genesys: user.userName, roster: desired.email }
  const held = new Set((user.roles ?? []).map((r) => lower(r.value)))
  const rolesToAdd = (desired.roles ?? []).filter((r) => !held.has(lower(r)))
  if (rolesToAdd.length > 0) d.rolesToAdd = rolesToAdd
  const inGroups = new Set((user.groups ?? []).map((g) => g.value))
  const groupsToJoin = (desired.groups ?? []).filter((p) => { const id = groupIdOf.get(p); return id === undefined || !inGroups.has(id) })
  if (groupsToJoin.length > 0) d.groupsToJoin = groupsToJoin
  return d
}
