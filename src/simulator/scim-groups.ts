import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { SimContext } from './context.js'
import { scimError, SimError } from './errors.js'
import { matches, parseEqFilter, type EqFilter } from './filters.js'
import { checkIfMatch, etagOf, listResponse, notModified, paging, project, SCIM_PREFIXES, sendScim, type ListQuery } from './scim-common.js'
import { applyPatch, parsePatchBody, type Obj } from './scim-patch.js'
import { USER_NAMES } from './scim-users.js'
import { findGroupByName, groupsOf, liveUser, type SimGroup } from './state.js'

/**
 * SCIM `/groups`: Genesys official groups, readable and with editable
 * membership, but never created or deleted through SCIM (POST and DELETE
 * answer 405). Groups are flat: members are users only.
 */

export const SCIM_CORE_GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group'
const GROUP_FILTERS = new Set(['displayname', 'id'])
const MAX_MEMBERS = 1000
const MAX_GROUPS_PER_USER = 100

export function toScimGroup (ctx: SimContext, g: SimGroup): Obj {
  const base = ctx.baseUrl()
  return {
    schemas: [SCIM_CORE_GROUP],
    id: g.id,
    displayName: g.name,
    members: g.memberIds.flatMap((id) => {
      const u = liveUser(ctx.state, id)
      return u === undefined ? [] : [{ value: id, display: u.displayName, type: 'User', $ref: `${base}/api/v2/scim/v2/users/${id}` }]
    }),
    meta: { resourceType: 'Group', lastModified: g.dateModified, location: `${base}/api/v2/scim/v2/groups/${g.id}`, version: etagOf(g.version) },
  }
}

const invalid = (detail: string) => scimError(400, 'invalidValue', detail)

/** Validates a desired member list: existing users only (no nested groups), within Genesys' limits. */
function memberIds (ctx: SimContext, group: SimGroup, members: unknown): string[] {
  if (members === undefined || members === null) return []
  if (!Array.isArray(members)) throw invalid('members must be an array')
  const ids: string[] = []
  for (const [i, m] of members.entries()) {
    const id = typeof m === 'object' && m !== null ? (m as Obj).value : undefined
    if (typeof id !== 'string') throw invalid(`members[${i}].value must be a user id`)
    if (ctx.state.groups.has(id)) throw invalid(`Group '${id}' cannot be a member: Genesys groups cannot be nested`)
    if (liveUser(ctx.state, id) === undefined) throw invalid(`User '${id}' does not exist`)
    if (!ids.includes(id)) ids.push(id)
  }
  if (ids.length > MAX_MEMBERS) throw invalid(`A group may have at most ${MAX_MEMBERS} individually added members`)
  for (const id of ids) {
    if (!group.memberIds.includes(id) && groupsOf(ctx.state, id).length >= MAX_GROUPS_PER_USER) {
      throw invalid(`User '${id}' is already in ${MAX_GROUPS_PER_USER} groups`)
    }
  }
  return ids
}

function field (obj: Obj, lower: string): unknown {
  const k = Object.keys(obj).find((key) => key.toLowerCase() === lower)
  return k === undefined ? undefined : obj[k]
}

/** Applies a desired `{displayName, members}` to the group: the common end of PUT and PATCH. */
function replaceGroup (ctx: SimContext, group: SimGroup, desired: Obj): void {
  const name = field(desired, 'displayname')
  if (typeof name !== 'string' || name.trim() === '') throw invalid("Required attribute 'displayName' is missing")
  const other = findGroupByName(ctx.state, name)
  if (other !== undefined && other.id !== group.id) throw scimError(409, 'uniqueness', `Group name '${name}' is already in use.`)
  const ids = memberIds(ctx, group, field(desired, 'members'))
  group.name = name
  group.memberIds = ids
  group.version++
  group.dateModified = ctx.nowIso()
}

function groupMatches (g: SimGroup, f: EqFilter): boolean {
  return f.attribute === 'id' ? matches(g.id, f.value, true) : matches(g.name, f.value)
}

type IdReq = FastifyRequest<{ Params: { id: string } }>
const PERMISSION = { config: { permission: 'directory:group:edit' } }

export function registerScimGroups (app: FastifyInstance, ctx: SimContext): void {
  const get = (id: string): SimGroup => {
    const g = ctx.state.groups.get(id)
    if (g === undefined || g.type !== 'official') throw scimError(404, undefined, `Group '${id}' not found`)
    return g
  }
  const notAllowed = (allow: string) => async () => {
    throw new SimError(405, 'method.not.allowed', 'Groups cannot be created or deleted through SCIM; use POST /api/v2/groups', { headers: { allow } })
  }
  for (const prefix of SCIM_PREFIXES) {
    app.get<{ Querystring: ListQuery }>(`${prefix}/groups`, PERMISSION, async (req, reply) => {
      const { startIndex, count } = paging(ctx, req.query)
      const filter = req.query.filter === undefined || req.query.filter.trim() === '' ? undefined : parseEqFilter(req.query.filter, GROUP_FILTERS)
      const found = [...ctx.state.groups.values()].filter((g) => g.type === 'official' && (filter === undefined || groupMatches(g, filter)))
      return sendScim(reply, 200, listResponse(found, startIndex, count, (g) => project(toScimGroup(ctx, g), req.query.attributes, req.query.excludedAttributes)))
    })

    app.get<{ Params: { id: string }, Querystring: ListQuery }>(`${prefix}/groups/:id`, PERMISSION, async (req, reply) => {
      const g = get(req.params.id)
      if (notModified(req, g.version)) return reply.code(304).header('ETag', etagOf(g.version)).send()
      return sendScim(reply, 200, project(toScimGroup(ctx, g), req.query.attributes, req.query.excludedAttributes), g.version)
    })

    app.put(`${prefix}/groups/:id`, PERMISSION, async (req: IdReq, reply) => {
      const g = get(req.params.id)
      checkIfMatch(ctx, req, g.version)
      if (typeof req.body !== 'object' || req.body === null || Array.isArray(req.body)) throw scimError(400, 'invalidSyntax', 'The request body must be a SCIM Group object')
      replaceGroup(ctx, g, req.body as Obj)
      return sendScim(reply, 200, toScimGroup(ctx, g), g.version)
    })

    app.patch(`${prefix}/groups/:id`, PERMISSION, async (req: IdReq, reply) => {
      const g = get(req.params.id)
      checkIfMatch(ctx, req, g.version)
      const ops = parsePatchBody(req.body)
      const resource: Obj = { displayName: g.name, members: g.memberIds.map((value) => ({ value })) }
      applyPatch(resource, ops, USER_NAMES)
      replaceGroup(ctx, g, resource)
      return sendScim(reply, 200, toScimGroup(ctx, g), g.version)
    })

    app.post(`${prefix}/groups`, notAllowed('GET'))
    app.delete(`${prefix}/groups/:id`, notAllowed('GET, PUT, PATCH'))
  }
}
