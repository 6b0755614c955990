import { readFileSync } from 'node:fs'
import { Type, type Static } from 'typebox'
import { Value } from 'typebox/value'

/**
 * The simulator's starting org: OAuth clients, divisions, roles, routing data,
 * users, groups and queues. Everything is referenced by fixed UUIDs so tests
 * and the demo can name them; users and queues name their division by name,
 * the way SCIM does.
 */

const Id = Type.String({ minLength: 1 })
const Name = Type.String({ minLength: 1 })

export const SeedClientSchema = Type.Object({
  clientId: Id,
  clientSecret: Type.String({ minLength: 1 }),
  name: Name,
  /** `domain:entity:action` triples; `*` matches any part. */
  permissions: Type.Array(Type.String({ pattern: '^[^:]+:[^:]+:[^:]+$' })),
  /**
   * Permissions the OAuth client holds only in some divisions (named), as its
   * role grants per division give them in Genesys. `permissions` hold everywhere.
   */
  divisionPermissions: Type.Optional(Type.Array(Type.Object({
    division: Name,
    permissions: Type.Array(Type.String({ pattern: '^[^:]+:[^:]+:[^:]+$' })),
  }, { additionalProperties: false }))),
  /** Genesys allows 300–172800 s per client; the simulator accepts any positive value so tests can expire tokens quickly. */
  tokenLifetimeSeconds: Type.Optional(Type.Integer({ minimum: 1 })),
}, { additionalProperties: false })
export type SeedClient = Static<typeof SeedClientSchema>

export const PermissionPolicySchema = Type.Object({
  domain: Name,
  entityName: Name,
  actionSet: Type.Array(Name),
  allowConditions: Type.Optional(Type.Boolean()),
}, { additionalProperties: false })
export type PermissionPolicy = Static<typeof PermissionPolicySchema>

const SeedDivisionSchema = Type.Object({
  id: Id, name: Name, description: Type.Optional(Type.String()), homeDivision: Type.Optional(Type.Boolean()),
}, { additionalProperties: false })

const SeedRoleSchema = Type.Object({
  id: Id,
  name: Name,
  description: Type.Optional(Type.String()),
  default: Type.Optional(Type.Boolean()),
  base: Type.Optional(Type.Boolean()),
  permissionPolicies: Type.Array(PermissionPolicySchema),
  /** Legacy permission strings (`admin`, `group_creation`, or triples); part of what the role grants. */
  permissions: Type.Optional(Type.Array(Name)),
}, { additionalProperties: false })

const NamedSchema = Type.Object({ id: Id, name: Name }, { additionalProperties: false })

const ProficiencySchema = Type.Object({ name: Name, proficiency: Type.Number({ minimum: 0, maximum: 5 }) }, { additionalProperties: false })

const SeedUserSchema = Type.Object({
  id: Id,
  userName: Name,
  displayName: Name,
  state: Type.Union([Type.Literal('active'), Type.Literal('inactive'), Type.Literal('deleted')]),
  title: Type.Optional(Type.String()),
  externalId: Type.Optional(Type.String()),
  /** Division name; the home division when absent. */
  division: Type.Optional(Name),
  department: Type.Optional(Type.String()),
  employeeNumber: Type.Optional(Type.String()),
  managerId: Type.Optional(Id),
  dateHire: Type.Optional(Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' })),
  emails: Type.Optional(Type.Array(Type.Object({ value: Name, type: Type.String(), primary: Type.Optional(Type.Boolean()) }))),
  phoneNumbers: Type.Optional(Type.Array(Type.Object({ value: Name, type: Type.String(), primary: Type.Optional(Type.Boolean()) }))),
  /** Role names, granted in the user's division. */
  roles: Type.Optional(Type.Array(Name)),
  routingSkills: Type.Optional(Type.Array(ProficiencySchema)),
  routingLanguages: Type.Optional(Type.Array(ProficiencySchema)),
}, { additionalProperties: false })

const SeedGroupSchema = Type.Object({
  id: Id,
  name: Name,
  description: Type.Optional(Type.String()),
  visibility: Type.Optional(Type.Union([Type.Literal('public'), Type.Literal('members')])),
  memberIds: Type.Optional(Type.Array(Id)),
}, { additionalProperties: false })

/** A queue member group: an official group, a team or a skill group, by id. */
const SeedMemberGroupSchema = Type.Object({
  id: Id,
  type: Type.Union([Type.Literal('GROUP'), Type.Literal('TEAM'), Type.Literal('SKILLGROUP')]),
}, { additionalProperties: false })
export type SeedMemberGroup = Static<typeof SeedMemberGroupSchema>

const SeedQueueSchema = Type.Object({
  id: Id,
  name: Name,
  description: Type.Optional(Type.String()),
  /** Division name; the home division when absent. */
  division: Type.Optional(Name),
  /** Official groups (type GROUP); shorthand for `memberGroups`. */
  memberGroupIds: Type.Optional(Type.Array(Id)),
  memberGroups: Type.Optional(Type.Array(SeedMemberGroupSchema)),
  /** Conditional group routing: rule 1 evaluates this queue, later rules may evaluate another. */
  conditionalGroupRouting: Type.Optional(Type.Object({
    rules: Type.Array(Type.Object({
      evaluatedQueueId: Type.Optional(Id),
      metric: Type.Optional(Type.String()),
      operator: Type.Optional(Type.String()),
      conditionValue: Type.Optional(Type.Number()),
      waitSeconds: Type.Optional(Type.Number()),
      groups: Type.Array(SeedMemberGroupSchema),
    }, { additionalProperties: false })),
  }, { additionalProperties: false })),
  bullseye: Type.Optional(Type.Object({
    rings: Type.Array(Type.Object({
      expansionTimeoutSeconds: Type.Optional(Type.Number()),
      memberGroups: Type.Array(SeedMemberGroupSchema),
    }, { additionalProperties: false })),
  }, { additionalProperties: false })),
}, { additionalProperties: false })

export const SimSeedSchema = Type.Object({
  clients: Type.Array(SeedClientSchema, { minItems: 1 }),
  divisions: Type.Array(SeedDivisionSchema, { minItems: 1 }),
  roles: Type.Array(SeedRoleSchema),
  skills: Type.Array(NamedSchema),
  languages: Type.Array(NamedSchema),
  users: Type.Array(SeedUserSchema),
  groups: Type.Array(SeedGroupSchema),
  /** Work teams and skill groups: queue member groups of type TEAM and SKILLGROUP. */
  teams: Type.Optional(Type.Array(NamedSchema)),
  skillGroups: Type.Optional(Type.Array(NamedSchema)),
  queues: Type.Array(SeedQueueSchema),
}, { additionalProperties: false })
export type SimSeed = Static<typeof SimSeedSchema>

/**
 * Checks the shape and the cross references (one home division, unique ids and
 * names, every referenced role, division, user and group present); throws one
 * error listing every problem.
 */
export function validateSeed (raw: unknown): SimSeed {
  const problems = [...Value.Errors(SimSeedSchema, raw)].map((e) => `${e.instancePath || '/'} ${e.message}`)
  if (problems.length > 0) throw new Error(`invalid simulator seed:\n  ${problems.join('\n  ')}`)
  const seed = raw as SimSeed
  const unique = (what: string, values: string[], caseInsensitive = false): void => {
    const seen = new Set<string>()
    for (const v of values) {
      const k = caseInsensitive ? v.toLowerCase() : v
      if (seen.has(k)) problems.push(`duplicate ${what} ${v}`)
      seen.add(k)
    }
  }
  const ids = [seed.clients.map((c) => c.clientId), seed.divisions, seed.roles, seed.skills, seed.languages, seed.users, seed.groups, seed.teams ?? [], seed.skillGroups ?? [], seed.queues]
    .flatMap((list) => list.map((x) => (typeof x === 'string' ? x : x.id)))
  unique('id', ids)
  unique('division name', seed.divisions.map((d) => d.name), true)
  unique('role name', seed.roles.map((r) => r.name), true)
  unique('group name', seed.groups.map((g) => g.name), true)
  unique('queue name', seed.queues.map((q) => q.name), true)
  unique('skill name', seed.skills.map((s) => s.name))
  unique('language name', seed.languages.map((l) => l.name))
  unique('userName of a non-deleted user', seed.users.filter((u) => u.state !== 'deleted').map((u) => u.userName), true)
  if (seed.divisions.filter((d) => d.homeDivision === true).length !== 1) problems.push('exactly one division must have homeDivision: true')

  const divisionNames = new Set(seed.divisions.map((d) => d.name.toLowerCase()))
  const roleNames = new Set(seed.roles.map((r) => r.name.toLowerCase()))
  const userIds = new Set(seed.users.map((u) => u.id))
  const groupIds = new Set(seed.groups.map((g) => g.id))
  const skills = new Set(seed.skills.map((s) => s.name))
  const languages = new Set(seed.languages.map((l) => l.name))
  for (const u of seed.users) {
    if (u.division !== undefined && !divisionNames.has(u.division.toLowerCase())) problems.push(`user ${u.id}: unknown division ${u.division}`)
    for (const r of u.roles ?? []) if (!roleNames.has(r.toLowerCase())) problems.push(`user ${u.id}: unknown role ${r}`)
    if (u.managerId !== undefined && !userIds.has(u.managerId)) problems.push(`user ${u.id}: unknown manager ${u.managerId}`)
    for (const s of u.routingSkills ?? []) if (!skills.has(s.name)) problems.push(`user ${u.id}: unknown skill ${s.name}`)
    for (const l of u.routingLanguages ?? []) if (!languages.has(l.name)) problems.push(`user ${u.id}: unknown language ${l.name}`)
  }
  for (const g of seed.groups) {
    for (const m of g.memberIds ?? []) if (!userIds.has(m)) problems.push(`group ${g.id}: unknown member ${m}`)
  }
  for (const c of seed.clients) {
    for (const d of c.divisionPermissions ?? []) if (!divisionNames.has(d.division.toLowerCase())) problems.push(`client ${c.clientId}: unknown division ${d.division}`)
  }
  for (const q of seed.queues) {
    if (q.division !== undefined && !divisionNames.has(q.division.toLowerCase())) problems.push(`queue ${q.id}: unknown division ${q.division}`)
    for (const g of q.memberGroupIds ?? []) if (!groupIds.has(g)) problems.push(`queue ${q.id}: unknown group ${g}`)
    const known: Record<SeedMemberGroup['type'], Set<string>> = { GROUP: groupIds, TEAM: new Set((seed.teams ?? []).map((x) => x.id)), SKILLGROUP: new Set((seed.skillGroups ?? []).map((x) => x.id)) }
    const referenced = [
      ...(q.memberGroups ?? []),
      ...(q.conditionalGroupRouting?.rules ?? []).flatMap((r) => r.groups),
      ...(q.bullseye?.rings ?? []).flatMap((r) => r.memberGroups),
    ]
    for (const m of referenced) if (!known[m.type].has(m.id)) problems.push(`queue ${q.id}: unknown ${m.type} ${m.id}`)
  }
  if (problems.length > 0) throw new Error(`invalid simulator seed:\n  ${problems.join('\n  ')}`)
  return seed
}

/** Reads and validates a seed file (JSON). */
export function loadSeedFile (path: string | URL): SimSeed {
  return validateSeed(JSON.parse(readFileSync(path, 'utf8')))
}

/** The bundled seed (a fresh copy each call, so callers may change it). */
export function defaultSeed (): SimSeed {
  return loadSeedFile(new URL('./seed.json', import.meta.url))
}
