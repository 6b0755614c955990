import { randomUUID } from 'node:crypto'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { requireInDivision, type SimContext } from './context.js'
import { scimError } from './errors.js'
import { matches, parseEqFilter, type EqFilter } from './filters.js'
import { checkIfMatch, etagOf, listResponse, notModified, paging, project, SCIM_PREFIXES, sendScim, type ListQuery } from './scim-common.js'
import { applyPatch, parsePatchBody, type Obj, type PatchNames } from './scim-patch.js'
import {
  deleteUser, findDivisionByName, findRoleByName, groupsOf, homeDivision, liveUser, rolesOf, setRoles, userByExternalId, userByUserName,
  type Contact, type Proficiency, type SimState, type SimUser,
} from './state.js'

/**
 * SCIM `/users`: list with `eq` filters, create, get, PUT, PATCH, soft DELETE,
 * with Genesys' rules: roles and divisions by name, skills and languages that
 * must exist, `groups` read-only, userName unique among non-deleted users.
 */

export const SCIM_CORE_USER = 'urn:ietf:params:scim:schemas:core:2.0:User'
export const SCIM_ENTERPRISE_USER = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'
export const SCIM_GENESYS_USER = 'urn:ietf:params:scim:schemas:extension:genesys:purecloud:2.0:User'
export const EXTERNAL_ID_AUTHORITY = 'x-pc:scimv2:v1'

const USER_FILTERS = new Set(['username', 'externalid', 'email', 'emails', 'emails.value', 'employeenumber', 'division', 'manager', 'manager.value', 'active', 'id'])
const EMAIL_TYPES = new Set(['work', 'other'])
const PHONE_TYPES = new Set(['work', 'work2', 'work3', 'work4', 'home', 'mobile', 'other', 'microsoftteams', 'ringcentral', 'zoomphone'])
const E164 = /^\+[1-9]\d{6,14}$/

const CANONICAL = new Map([
  'userName', 'displayName', 'active', 'title', 'externalId', 'emails', 'phoneNumbers', 'roles', 'groups', 'password',
  'division', 'department', 'employeeNumber', 'manager', 'dateHire', 'routingSkills', 'routingLanguages', 'externalIds',
  'value', 'type', 'primary', 'name', 'proficiency', 'authority', 'members', 'display',
].map((n) => [n.toLowerCase(), n]))
const URNS = new Map([SCIM_ENTERPRISE_USER, SCIM_GENESYS_USER].map((u) => [u.toLowerCase(), u]))
export const USER_NAMES: PatchNames = {
  attribute: (lower) => CANONICAL.get(lower) ?? lower,
  urn: (lower) => URNS.get(lower) ?? lower,
}

export function toScimUser (ctx: SimContext, user: SimUser): Obj {
  const { state } = ctx
  const division = state.divisions.get(user.divisionId)
  const enterprise: Obj = { division: division?.name }
  if (user.department !== undefined) enterprise.department = user.department
  if (user.employeeNumber !== undefined) enterprise.employeeNumber = user.employeeNumber
  if (user.managerId !== undefined) enterprise.manager = { value: user.managerId }
  if (user.dateHire !== undefined) enterprise.dateHire = user.dateHire
  const externalIds = [...user.otherExternalIds]
  if (user.externalId !== undefined) externalIds.push({ authority: EXTERNAL_ID_AUTHORITY, value: user.externalId })
  const location = `${ctx.baseUrl()}/api/v2/scim/v2/users/${user.id}`
  const out: Obj = {
    schemas: [SCIM_CORE_USER, SCIM_ENTERPRISE_USER, SCIM_GENESYS_USER],
    id: user.id,
    userName: user.userName,
    displayName: user.displayName,
    active: user.state === 'active',
  }
  if (user.title !== undefined) out.title = user.title
  if (user.externalId !== undefined) out.externalId = user.externalId
  if (user.emails.length > 0) out.emails = user.emails.map((e) => ({ ...e }))
  if (user.phoneNumbers.length > 0) out.phoneNumbers = user.phoneNumbers.map((p) => ({ ...p }))
  out.roles = rolesOf(state, user.id).map((r) => ({ value: r.name }))
  out.groups = groupsOf(state, user.id).map((g) => ({ value: g.id, display: g.name, $ref: `${ctx.baseUrl()}/api/v2/scim/v2/groups/${g.id}` }))
  out[SCIM_ENTERPRISE_USER] = enterprise
  out[SCIM_GENESYS_USER] = {
    routingSkills: user.routingSkills.map((s) => ({ ...s })),
    routingLanguages: user.routingLanguages.map((l) => ({ ...l })),
    externalIds,
  }
  out.meta = { resourceType: 'User', created: user.created, lastModified: user.lastModified, location, version: etagOf(user.version) }
  return out
}

// ---- input validation -------------------------------------------------------

interface UserFields {
  userName: string
  displayName: string
  active: boolean
  title?: string
  externalId?: string
  emails: Contact[]
  phoneNumbers: Contact[]
  /** Undefined when the request named no division. */
  divisionId?: string
  department?: string
  employeeNumber?: string
  managerId?: string
  dateHire?: string
  routingSkills: Proficiency[]
  routingLanguages: Proficiency[]
  otherExternalIds: Array<{ authority: string, value: string }>
  /** Undefined when the request had no `roles` attribute. */
  roleIds?: string[]
}

const invalid = (detail: string) => scimError(400, 'invalidValue', detail)
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)

function field (obj: Obj, name: string): unknown {
  if (name in obj) return obj[name]
  const lower = name.toLowerCase()
  for (const k of Object.keys(obj)) if (k.toLowerCase() === lower) return obj[k]
  return undefined
}

function optString (obj: Obj, name: string, label = name): string | undefined {
  const v = field(obj, name)
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'string') throw invalid(`${label} must be a string`)
  return v
}

function reqString (obj: Obj, name: string): string {
  const v = optString(obj, name)
  if (v === undefined || v.trim() === '') throw invalid(`Required attribute '${name}' is missing`)
  return v
}

function optBoolean (obj: Obj, name: string): boolean | undefined {
  const v = field(obj, name)
  if (v === undefined || v === null) return undefined
  // Some SCIM clients (Azure AD) send "True"/"False".
  if (typeof v === 'string' && /^(true|false)$/i.test(v)) return v.toLowerCase() === 'true'
  if (typeof v !== 'boolean') throw invalid(`${name} must be a boolean`)
  return v
}

function contacts (obj: Obj, name: 'emails' | 'phoneNumbers'): Contact[] {
  const v = field(obj, name)
  if (v === undefined || v === null) return []
  if (!Array.isArray(v)) throw invalid(`${name} must be an array`)
  return v.map((item, i): Contact => {
    if (!isObj(item) || typeof item.value !== 'string' || item.value === '') throw invalid(`${name}[${i}].value must be a non-empty string`)
    const type = item.type === undefined ? undefined : String(item.type)
    if (name === 'emails') {
      if (type !== undefined && !EMAIL_TYPES.has(type)) throw invalid(`${name}[${i}].type '${type}' is not one of work, other`)
    } else {
      if (type !== undefined && !PHONE_TYPES.has(type)) throw invalid(`${name}[${i}].type '${type}' is not a supported phone type`)
      if (!E164.test(item.value)) throw invalid(`${name}[${i}].value must be an E.164 number (e.g. +14155550100)`)
    }
    const c: Contact = { value: item.value }
    if (type !== undefined) c.type = type
    if (typeof item.primary === 'boolean') c.primary = item.primary
    return c
  })
}

function proficiencies (state: SimState, ext: Obj, name: 'routingSkills' | 'routingLanguages'): Proficiency[] {
  const v = field(ext, name)
  if (v === undefined || v === null) return []
  if (!Array.isArray(v)) throw invalid(`${name} must be an array`)
  if (v.length > 50) throw invalid(`${name} may hold at most 50 entries`)
  const known = name === 'routingSkills' ? state.skills : state.languages
  return v.map((item, i): Proficiency => {
    if (!isObj(item) || typeof item.name !== 'string') throw invalid(`${name}[${i}].name must be a string`)
    const p = item.proficiency === undefined ? 0 : item.proficiency
    if (typeof p !== 'number' || p < 0 || p > 5) throw invalid(`${name}[${i}].proficiency must be a number from 0 to 5`)
    // Names are matched case-sensitively, as Genesys does.
    let found = false
    for (const k of known.values()) if (k.name === item.name) found = true
    if (!found) throw invalid(`${name === 'routingSkills' ? 'Routing skill' : 'Routing language'} '${item.name}' does not exist`)
    return { name: item.name, proficiency: p }
  })
}

function parseUser (ctx: SimContext, body: unknown, selfId?: string): UserFields {
  const { state } = ctx
  if (!isObj(body)) throw scimError(400, 'invalidSyntax', 'The request body must be a SCIM User object')
  const enterprise = field(body, SCIM_ENTERPRISE_USER) ?? {}
  const genesys = field(body, SCIM_GENESYS_USER) ?? {}
  if (!isObj(enterprise)) throw invalid(`${SCIM_ENTERPRISE_USER} must be an object`)
  if (!isObj(genesys)) throw invalid(`${SCIM_GENESYS_USER} must be an object`)
  if (field(body, 'password') !== undefined && typeof field(body, 'password') !== 'string') throw invalid('password must be a string')

  const out: UserFields = {
    userName: reqString(body, 'userName'),
    displayName: reqString(body, 'displayName'),
    active: optBoolean(body, 'active') ?? true,
    title: optString(body, 'title'),
    externalId: optString(body, 'externalId'),
    emails: contacts(body, 'emails'),
    phoneNumbers: contacts(body, 'phoneNumbers'),
    department: optString(enterprise, 'department'),
    employeeNumber: optString(enterprise, 'employeeNumber'),
    dateHire: optString(enterprise, 'dateHire'),
    routingSkills: proficiencies(state, genesys, 'routingSkills'),
    routingLanguages: proficiencies(state, genesys, 'routingLanguages'),
    otherExternalIds: [],
  }
  if (out.dateHire !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(out.dateHire)) throw invalid('dateHire must be YYYY-MM-DD')

  const divisionName = optString(enterprise, 'division')
  if (divisionName !== undefined) {
    const d = findDivisionByName(state, divisionName)
    if (d === undefined) throw invalid(`Division '${divisionName}' does not exist`)
    out.divisionId = d.id
  }

  const manager = field(enterprise, 'manager')
  if (manager !== undefined && manager !== null) {
    const id = isObj(manager) ? manager.value : undefined
    if (typeof id !== 'string') throw invalid('manager must be {"value":"<userId>"}')
    if (id !== '') {
      if (id === selfId) throw invalid('A user cannot be their own manager')
      if (liveUser(state, id) === undefined) throw invalid(`Manager '${id}' does not exist`)
      out.managerId = id
    }
  }

  const externalIds = field(genesys, 'externalIds')
  if (externalIds !== undefined && externalIds !== null) {
    if (!Array.isArray(externalIds)) throw invalid('externalIds must be an array')
    for (const [i, e] of externalIds.entries()) {
      if (!isObj(e) || typeof e.authority !== 'string' || typeof e.value !== 'string') throw invalid(`externalIds[${i}] must be {authority, value}`)
      // The x-pc:scimv2:v1 entry mirrors `externalId`; it is not stored separately.
      if (e.authority === EXTERNAL_ID_AUTHORITY) out.externalId ??= e.value
      else out.otherExternalIds.push({ authority: e.authority, value: e.value })
    }
  }

  const roles = field(body, 'roles')
  if (roles !== undefined && roles !== null) {
    if (!Array.isArray(roles)) throw invalid('roles must be an array')
    out.roleIds = roles.map((r, i) => {
      const name = isObj(r) ? r.value : undefined
      if (typeof name !== 'string') throw invalid(`roles[${i}].value must be a role name`)
      const role = findRoleByName(state, name)
      if (role === undefined) throw invalid(`Role '${name}' does not exist`)
      return role.id
    })
  }
  return out
}

function uniquenessConflict (withScimType = true) {
  return scimError(409, withScimType ? 'uniqueness' : undefined, 'User name already in use by non-deleted user.')
}

/** userName and externalId are each unique among non-deleted users. */
function checkUnique (state: SimState, f: UserFields, exceptId?: string, withScimType = true): void {
  if (userByUserName(state, f.userName, exceptId) !== undefined) throw uniquenessConflict(withScimType)
  if (userByExternalId(state, f.externalId, exceptId) !== undefined) {
    throw scimError(409, withScimType ? 'uniqueness' : undefined, 'External id already in use by non-deleted user.')
  }
}

function applyFields (ctx: SimContext, user: SimUser, f: UserFields): void {
  user.userName = f.userName
  user.displayName = f.displayName
  user.state = f.active ? 'active' : 'inactive'
  user.title = f.title
  user.externalId = f.externalId
  user.emails = f.emails
  user.phoneNumbers = f.phoneNumbers
  if (f.divisionId !== undefined) user.divisionId = f.divisionId
  user.department = f.department
  user.employeeNumber = f.employeeNumber
  user.managerId = f.managerId
  user.dateHire = f.dateHire
  user.routingSkills = f.routingSkills
  user.routingLanguages = f.routingLanguages
  user.otherExternalIds = f.otherExternalIds
  if (f.roleIds !== undefined) setRoles(ctx.state, user.id, f.roleIds, user.divisionId, ctx.nowIso())
}

// ---- list filter ------------------------------------------------------------

function userMatches (state: SimState, u: SimUser, f: EqFilter): boolean {
  switch (f.attribute) {
    case 'username': return matches(u.userName, f.value)
    case 'externalid': return matches(u.externalId, f.value, true)
    case 'email':
    case 'emails':
    case 'emails.value': return matches(u.userName, f.value) || u.emails.some((e) => matches(e.value, f.value))
    case 'employeenumber': return matches(u.employeeNumber, f.value, true)
    case 'division': {
      const d = state.divisions.get(u.divisionId)
      return d !== undefined && (matches(d.name, f.value) || matches(d.id, f.value, true))
    }
    case 'manager':
    case 'manager.value': return matches(u.managerId, f.value, true)
    case 'active': return matches(u.state === 'active', f.value)
    case 'id': return matches(u.id, f.value, true)
    default: return false
  }
}

// ---- routes -----------------------------------------------------------------

type IdReq = FastifyRequest<{ Params: { id: string } }>

function getLive (ctx: SimContext, id: string): SimUser {
  const u = liveUser(ctx.state, id)
  if (u === undefined) throw scimError(404, undefined, `User '${id}' not found`)
  return u
}

export function registerScimUsers (app: FastifyInstance, ctx: SimContext): void {
  const { state } = ctx
  /** An edit needs `directory:user:edit` in the user's division, and in the one it moves to. */
  const requireEdit = (req: FastifyRequest, user: SimUser, f: UserFields): void => {
    requireInDivision(ctx, req, 'directory:user:edit', user.divisionId)
    if (f.divisionId !== undefined && f.divisionId !== user.divisionId) requireInDivision(ctx, req, 'directory:user:edit', f.divisionId)
  }
  for (const prefix of SCIM_PREFIXES) {
    app.get<{ Querystring: ListQuery }>(`${prefix}/users`, { config: { permission: 'directory:user:view' } }, async (req, reply) => {
      const { startIndex, count } = paging(ctx, req.query)
      const filter = req.query.filter === undefined || req.query.filter.trim() === '' ? undefined : parseEqFilter(req.query.filter, USER_FILTERS)
      const now = ctx.clock()
      const found: SimUser[] = []
      for (const u of state.users.values()) {
        // Eventual consistency: new users appear in queries only after their visibility time.
        if (u.state === 'deleted' || u.visibleAt > now) continue
        // Without a filter (or when the filter is not on `active`), Genesys lists only active users.
        if (filter === undefined ? u.state !== 'active' : !userMatches(state, u, filter)) continue
        found.push(u)
      }
      return sendScim(reply, 200, listResponse(found, startIndex, count, (u) => project(toScimUser(ctx, u), req.query.attributes, req.query.excludedAttributes)))
    })

    app.post(`${prefix}/users`, { config: { permission: 'directory:user:add' } }, async (req, reply) => {
      const f = parseUser(ctx, req.body)
      // The SDK documents scimType for 400s only: whether this 409 carries one is a knob.
      checkUnique(state, f, undefined, ctx.faults.current.createConflictScimType)
      requireInDivision(ctx, req, 'directory:user:add', f.divisionId ?? homeDivision(state).id)
      const at = ctx.nowIso()
      const consistency = req.genesysSim.faulted ? ctx.faults.current.consistencyDelayMs : 0
      const user: SimUser = {
        id: randomUUID(),
        userName: f.userName,
        displayName: f.displayName,
        state: 'active',
        emails: [],
        phoneNumbers: [],
        divisionId: f.divisionId ?? homeDivision(state).id,
        routingSkills: [],
        routingLanguages: [],
        otherExternalIds: [],
        version: 1,
        created: at,
        lastModified: at,
        visibleAt: ctx.clock() + consistency,
      }
      state.users.set(user.id, user)
      applyFields(ctx, user, f)
      const body = toScimUser(ctx, user)
      reply.header('Location', (body.meta as Obj).location as string)
      return sendScim(reply, 201, body, user.version)
    })

    app.get<{ Params: { id: string }, Querystring: ListQuery }>(`${prefix}/users/:id`, { config: { permission: 'directory:user:view' } }, async (req, reply) => {
      const user = getLive(ctx, req.params.id)
      if (notModified(req, user.version)) return reply.code(304).header('ETag', etagOf(user.version)).send()
      return sendScim(reply, 200, project(toScimUser(ctx, user), req.query.attributes, req.query.excludedAttributes), user.version)
    })

    app.put(`${prefix}/users/:id`, { config: { permission: 'directory:user:edit' } }, async (req: IdReq, reply) => {
      const user = getLive(ctx, req.params.id)
      checkIfMatch(ctx, req, user.version)
      const f = parseUser(ctx, req.body, user.id)
      requireEdit(req, user, f)
      checkUnique(state, f, user.id)
      applyFields(ctx, user, f)
      user.version++
      user.lastModified = ctx.nowIso()
      return sendScim(reply, 200, toScimUser(ctx, user), user.version)
    })

    app.patch(`${prefix}/users/:id`, { config: { permission: 'directory:user:edit' } }, async (req: IdReq, reply) => {
      const user = getLive(ctx, req.params.id)
      checkIfMatch(ctx, req, user.version)
      const ops = parsePatchBody(req.body)
      if (ops.some((o) => o.path !== undefined && /^groups\b/i.test(o.path.trim()))) {
        throw scimError(400, 'mutability', 'groups is read-only on a user; change membership with PATCH /groups/{id}')
      }
      const resource = toScimUser(ctx, user)
      delete resource.groups
      delete resource.meta
      // The x-pc:scimv2:v1 externalId mirror would otherwise resurrect a removed externalId.
      const ext = resource[SCIM_GENESYS_USER] as { externalIds: Array<{ authority: string }> }
      ext.externalIds = ext.externalIds.filter((e) => e.authority !== EXTERNAL_ID_AUTHORITY)
      applyPatch(resource, ops, USER_NAMES)
      // A PATCH that removed `roles` means "no roles", unlike a PUT that omits them.
      resource.roles ??= []
      const f = parseUser(ctx, resource, user.id)
      requireEdit(req, user, f)
      checkUnique(state, f, user.id)
      applyFields(ctx, user, f)
      user.version++
      user.lastModified = ctx.nowIso()
      return sendScim(reply, 200, toScimUser(ctx, user), user.version)
    })

    app.delete(`${prefix}/users/:id`, { config: { permission: 'directory:user:delete' } }, async (req: IdReq, reply) => {
      const user = getLive(ctx, req.params.id)
      checkIfMatch(ctx, req, user.version)
      requireInDivision(ctx, req, 'directory:user:delete', user.divisionId)
      deleteUser(state, user, ctx.nowIso())
      return reply.code(204).send()
    })
  }
}
