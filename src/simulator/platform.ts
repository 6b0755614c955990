import { randomUUID } from 'node:crypto'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { requireInDivision, type SimContext } from './context.js'
import { hasPermission, holdsIn } from './tokens.js'
import { badRequest, conflict, notFound } from './errors.js'
import {
  addGrant, findGroupByName, grantsOf, groupsOf, liveUser, queueMemberCount,
  type SimCgrRule, type SimDivision, type SimGrant, type SimGroup, type SimMemberGroup, type SimNamed, type SimQueue, type SimRing, type SimRole,
} from './state.js'

/**
 * The platform API routes the service uses: roles, divisions, grants,
 * official groups, queues, routing skills and languages. Paged lists follow
 * Genesys' `{entities, pageSize, pageNumber, total, pageCount}` envelope.
 */

type Obj = Record<string, unknown>
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)

interface PageQuery { pageSize?: string, pageNumber?: string, name?: string }

function pageOf<T> (req: FastifyRequest, all: T[], q: PageQuery, render: (t: T) => Obj): Obj {
  const int = (raw: string | undefined, name: string, fallback: number, max: number): number => {
    if (raw === undefined || raw === '') return fallback
    const n = Number(raw)
    if (!Number.isInteger(n) || n < 1 || n > max) throw badRequest(`${name} must be an integer from 1 to ${max}`)
    return n
  }
  const pageSize = int(q.pageSize, 'pageSize', 25, 100)
  const pageNumber = int(q.pageNumber, 'pageNumber', 1, Number.MAX_SAFE_INTEGER)
  const pageCount = Math.ceil(all.length / pageSize)
  const path = req.url.split('?')[0] ?? ''
  const uri = (n: number) => `${path}?pageSize=${pageSize}&pageNumber=${n}${q.name === undefined ? '' : `&name=${encodeURIComponent(q.name)}`}`
  const out: Obj = {
    entities: all.slice((pageNumber - 1) * pageSize, pageNumber * pageSize).map(render),
    pageSize,
    pageNumber,
    total: all.length,
    pageCount,
    firstUri: uri(1),
    selfUri: uri(pageNumber),
    lastUri: uri(Math.max(1, pageCount)),
  }
  if (pageNumber < pageCount) out.nextUri = uri(pageNumber + 1)
  if (pageNumber > 1) out.previousUri = uri(pageNumber - 1)
  return out
}

const sameName = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase()
const byName = <T extends { name: string }>(list: Iterable<T>, name: string | undefined): T[] =>
  [...list].filter((x) => name === undefined || sameName(x.name, name))

type IdReq = FastifyRequest<{ Params: { id: string } }>
const perm = (permission: string) => ({ config: { permission } })

export function registerPlatform (app: FastifyInstance, ctx: SimContext): void {
  const { state } = ctx
  const V2 = '/api/v2'

  // ---- renderers ------------------------------------------------------------
  const divisionRef = (d: SimDivision | undefined) => (d === undefined ? undefined : { id: d.id, name: d.name, selfUri: `${V2}/authorization/divisions/${d.id}` })
  const division = (d: SimDivision): Obj => ({ id: d.id, name: d.name, description: d.description, homeDivision: d.homeDivision, selfUri: `${V2}/authorization/divisions/${d.id}` })
  /**
   * `permissionPolicies` is optional in Genesys' role models and listings leave
   * it out: only the role read by id carries it. Legacy `permissions[]` always come.
   */
  const role = (r: SimRole, withPolicies: boolean): Obj => {
    let userCount = 0
    for (const [subjectId, list] of state.grants) if (liveUser(state, subjectId) !== undefined && list.some((g) => g.roleId === r.id)) userCount++
    return {
      id: r.id,
      name: r.name,
      description: r.description,
      permissions: [...r.permissions],
      ...(withPolicies ? { permissionPolicies: policiesOf(r) } : {}),
      userCount,
      base: r.base,
      default: r.default,
      selfUri: `${V2}/authorization/roles/${r.id}`,
    }
  }
  const policiesOf = (r: SimRole): Obj[] => r.permissionPolicies.map((p, i) => ({
        id: `${r.id}-${i}`,
        domain: p.domain,
        entityName: p.entityName,
        policyName: `${p.domain}_${p.entityName}`,
        actionSet: [...p.actionSet],
        allowConditions: p.allowConditions ?? false,
      }))
  const grant = (g: SimGrant): Obj => {
    const r = state.roles.get(g.roleId)
    return {
      subjectId: g.subjectId,
      division: divisionRef(state.divisions.get(g.divisionId)),
      role: r === undefined ? { id: g.roleId } : { id: r.id, name: r.name, selfUri: `${V2}/authorization/roles/${r.id}` },
      grantMadeAt: g.grantMadeAt,
    }
  }
  const group = (g: SimGroup): Obj => ({
    id: g.id,
    name: g.name,
    description: g.description,
    dateModified: g.dateModified,
    memberCount: g.memberIds.filter((id) => liveUser(state, id)).length,
    state: 'active',
    version: g.version,
    type: g.type,
    rulesVisible: g.rulesVisible,
    visibility: g.visibility,
    selfUri: `${V2}/groups/${g.id}`,
  })
  const queue = (q: SimQueue): Obj => ({
    ...q.extra,
    id: q.id,
    name: q.name,
    description: q.description,
    division: divisionRef(state.divisions.get(q.divisionId)),
    dateCreated: q.dateCreated,
    dateModified: q.dateModified,
    memberCount: queueMemberCount(state, q),
    memberGroups: q.memberGroups.map(memberGroup),
    ...(q.conditionalGroupRouting
      ? {
          conditionalGroupRouting: {
            rules: q.conditionalGroupRouting.rules.map((r, i) => {
              // Genesys fills in rule 1's queue (this queue) on every read.
              const evaluated = i === 0 ? q.id : r.evaluatedQueueId
              return { ...r.extra, ...(evaluated === undefined ? {} : { queue: { id: evaluated, selfUri: `${V2}/routing/queues/${evaluated}` } }), groups: r.groups.map(memberGroup) }
            }),
          },
        }
      : {}),
    ...(q.bullseye ? { bullseye: { rings: q.bullseye.rings.map((r) => ({ ...r.extra, memberGroups: r.memberGroups.map(memberGroup) })) } } : {}),
    selfUri: `${V2}/routing/queues/${q.id}`,
  })
  const memberGroup = (m: SimMemberGroup): Obj => {
    const where = m.type === 'GROUP' ? { map: state.groups, uri: `${V2}/groups/${m.id}` } : m.type === 'TEAM' ? { map: state.teams, uri: `${V2}/teams/${m.id}` } : { map: state.skillGroups, uri: `${V2}/routing/skillgroups/${m.id}` }
    return { id: m.id, name: where.map.get(m.id)?.name, type: m.type, selfUri: where.uri }
  }
  const named = (kind: string) => (x: SimNamed): Obj => ({ id: x.id, name: x.name, state: 'active', dateModified: x.dateModified, selfUri: `${V2}/routing/${kind}/${x.id}` })

  const found = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw notFound(what)
    return value
  }
  /** Grants go to users and groups; anything else is unknown. */
  const subject = (id: string): { id: string, name: string } => {
    const u = liveUser(state, id)
    if (u !== undefined) return { id, name: u.displayName }
    const g = state.groups.get(id)
    if (g !== undefined) return { id, name: g.name }
    throw notFound(`Subject ${id}`)
  }

  // ---- roles ----------------------------------------------------------------
  app.get<{ Querystring: PageQuery }>(`${V2}/authorization/roles`, perm('authorization:role:view'), async (req) =>
    pageOf(req, byName(state.roles.values(), req.query.name), req.query, (r) => role(r, false)))
  app.get(`${V2}/authorization/roles/:id`, perm('authorization:role:view'), async (req: IdReq) =>
    role(found(state.roles.get(req.params.id), `Role ${req.params.id}`), true))

  // ---- divisions --------------------------------------------------------------
  app.get<{ Querystring: PageQuery }>(`${V2}/authorization/divisions`, perm('authorization:division:view'), async (req) =>
    pageOf(req, byName(state.divisions.values(), req.query.name), req.query, division))
  app.get(`${V2}/authorization/divisions/home`, perm('authorization:division:view'), async () => {
    for (const d of state.divisions.values()) if (d.homeDivision) return division(d)
    throw notFound('Home division')
  })
  app.get(`${V2}/authorization/divisions/:id`, perm('authorization:division:view'), async (req: IdReq) =>
    division(found(state.divisions.get(req.params.id), `Division ${req.params.id}`)))

  // Which divisions the calling OAuth client holds `permission` in, paged like
  // Genesys' DivsPermittedEntityListing: `allDivsPermitted` when the grant is
  // org-wide (then `entities` still lists every division).
  app.get<{ Querystring: PageQuery & { permission?: string } }>(`${V2}/authorization/divisionspermitted/paged/me`, async (req) => {
    const permission = req.query.permission ?? ''
    if (!/^[a-z*]+:[a-z*]+:[a-z*]+$/i.test(permission)) throw badRequest('permission must be domain:entity:action')
    const client = req.genesysSim.client
    if (client === undefined) throw badRequest('no OAuth client')
    const permitted = byName(state.divisions.values(), req.query.name).filter((d) => holdsIn(client, permission, d.name))
    return { ...pageOf(req, permitted, req.query, division), allDivsPermitted: hasPermission(client.permissions, permission) }
  })

  // ---- grants -----------------------------------------------------------------
  // A user's answer includes the grants it inherits from its groups, each with the group as `subjectId`,
  // as Genesys answers: a caller keeps the direct ones by comparing `subjectId`.
  app.get(`${V2}/authorization/subjects/:id`, perm('authorization:grant:view'), async (req: IdReq) => {
    const s = subject(req.params.id)
    const inherited = liveUser(state, s.id) === undefined ? [] : groupsOf(state, s.id).flatMap((g) => grantsOf(state, g.id))
    return { id: s.id, name: s.name, grants: [...grantsOf(state, s.id), ...inherited].map(grant), selfUri: `${V2}/authorization/subjects/${s.id}` }
  })

  /** Validates `{grants:[{roleId, divisionId}]}`; unknown roles or divisions are a 400, checked before anything changes. */
  const grantList = (body: unknown): Array<{ roleId: string, divisionId: string }> => {
    const list = isObj(body) ? body.grants : undefined
    if (!Array.isArray(list)) throw badRequest('The body must be {"grants":[{"roleId","divisionId"}]}')
    return list.map((g, i) => {
      if (!isObj(g) || typeof g.roleId !== 'string' || typeof g.divisionId !== 'string') throw badRequest(`grants[${i}] must have roleId and divisionId`)
      if (!state.roles.has(g.roleId)) throw badRequest(`grants[${i}].roleId ${g.roleId} is not a role`)
      if (!state.divisions.has(g.divisionId)) throw badRequest(`grants[${i}].divisionId ${g.divisionId} is not a division`)
      return { roleId: g.roleId, divisionId: g.divisionId }
    })
  }
  app.post(`${V2}/authorization/subjects/:id/bulkadd`, perm('authorization:grant:add'), async (req: IdReq, reply) => {
    const s = subject(req.params.id)
    const at = ctx.nowIso()
    const list = grantList(req.body)
    // Checked for every grant before any is made: a refused division grants nothing.
    for (const g of list) requireInDivision(ctx, req, 'authorization:grant:add', g.divisionId)
    for (const g of list) addGrant(state, s.id, g.roleId, g.divisionId, at)
    return reply.code(204).send()
  })
  // Bulk-grant one role to many subjects in every listed division (SDK postAuthorizationRole);
  // every subject and division is checked before any grant is made.
  app.post<{ Params: { id: string }, Querystring: { subjectType?: string } }>(`${V2}/authorization/roles/:id`, perm('authorization:grant:add'), async (req, reply) => {
    const role = found(state.roles.get(req.params.id), `Role ${req.params.id}`)
    const type = req.query.subjectType ?? 'PC_USER'
    if (type !== 'PC_USER' && type !== 'PC_GROUP') throw badRequest(`subjectType ${type} is not supported here`)
    const b = req.body
    const ids = (key: string): string[] => {
      const list = isObj(b) ? b[key] : undefined
      if (!Array.isArray(list) || list.some((x) => typeof x !== 'string')) throw badRequest(`The body must be {"subjectIds":[…],"divisionIds":[…]} (${key} missing)`)
      return list as string[]
    }
    const subjects = ids('subjectIds').map((id) => {
      const s = subject(id)
      if ((type === 'PC_USER') !== (liveUser(state, id) !== undefined)) throw badRequest(`Subject ${id} is not a ${type === 'PC_USER' ? 'user' : 'group'}`)
      return s
    })
    const divisions = ids('divisionIds').map((id) => {
      if (!state.divisions.has(id)) throw badRequest(`divisionId ${id} is not a division`)
      return id
    })
    for (const d of divisions) requireInDivision(ctx, req, 'authorization:grant:add', d)
    const at = ctx.nowIso()
    for (const s of subjects) for (const d of divisions) addGrant(state, s.id, role.id, d, at)
    return reply.code(204).send()
  })
  app.post(`${V2}/authorization/subjects/:id/bulkremove`, perm('authorization:grant:delete'), async (req: IdReq, reply) => {
    const s = subject(req.params.id)
    const remove = grantList(req.body)
    state.grants.set(s.id, grantsOf(state, s.id).filter((g) => !remove.some((r) => r.roleId === g.roleId && r.divisionId === g.divisionId)))
    return reply.code(204).send()
  })
  type GrantReq = FastifyRequest<{ Params: { id: string, divisionId: string, roleId: string } }>
  const grantPath = `${V2}/authorization/subjects/:id/divisions/:divisionId/roles/:roleId`
  app.post(grantPath, perm('authorization:grant:add'), async (req: GrantReq, reply) => {
    const s = subject(req.params.id)
    found(state.divisions.get(req.params.divisionId), `Division ${req.params.divisionId}`)
    found(state.roles.get(req.params.roleId), `Role ${req.params.roleId}`)
    requireInDivision(ctx, req, 'authorization:grant:add', req.params.divisionId)
    addGrant(state, s.id, req.params.roleId, req.params.divisionId, ctx.nowIso())
    return reply.code(204).send()
  })
  app.delete(grantPath, perm('authorization:grant:delete'), async (req: GrantReq, reply) => {
    const s = subject(req.params.id)
    const { divisionId, roleId } = req.params
    state.grants.set(s.id, grantsOf(state, s.id).filter((g) => !(g.roleId === roleId && g.divisionId === divisionId)))
    return reply.code(204).send()
  })

  // ---- groups -----------------------------------------------------------------
  app.post(`${V2}/groups`, perm('directory:group:add'), async (req, reply) => {
    const b = req.body
    if (!isObj(b) || typeof b.name !== 'string' || b.name.trim() === '') throw badRequest('name is required')
    const type = b.type ?? 'official'
    if (type !== 'official' && type !== 'social') throw badRequest('type must be official or social')
    const visibility = b.visibility ?? 'public'
    if (visibility !== 'public' && visibility !== 'members') throw badRequest('visibility must be public or members')
    if (b.rulesVisible !== undefined && typeof b.rulesVisible !== 'boolean') throw badRequest('rulesVisible must be a boolean')
    if (b.description !== undefined && typeof b.description !== 'string') throw badRequest('description must be a string')
    if (findGroupByName(state, b.name) !== undefined) throw conflict(`A group named '${b.name}' already exists`)
    const g: SimGroup = {
      id: randomUUID(),
      name: b.name,
      description: b.description,
      type,
      visibility,
      rulesVisible: b.rulesVisible ?? true,
      memberIds: [],
      version: 1,
      dateModified: ctx.nowIso(),
    }
    state.groups.set(g.id, g)
    // 200, not 201, as the swagger documents for POST /api/v2/groups.
    return reply.code(200).send(group(g))
  })
  app.get<{ Querystring: PageQuery }>(`${V2}/groups`, perm('directory:group:view'), async (req) =>
    pageOf(req, [...state.groups.values()], req.query, group))
  app.get(`${V2}/groups/:id`, perm('directory:group:view'), async (req: IdReq) =>
    group(found(state.groups.get(req.params.id), `Group ${req.params.id}`)))
  app.post(`${V2}/groups/:id/members`, perm('directory:group:edit'), async (req: IdReq, reply) => {
    const g = found(state.groups.get(req.params.id), `Group ${req.params.id}`)
    const b = req.body
    if (!isObj(b) || !Array.isArray(b.memberIds) || b.memberIds.length > 50) throw badRequest('memberIds must be an array of at most 50 user ids')
    if (b.version !== g.version) throw conflict(`The group version is ${g.version}, not ${String(b.version)}`)
    for (const id of b.memberIds) if (typeof id !== 'string' || liveUser(state, id) === undefined) throw badRequest(`User ${String(id)} does not exist`)
    for (const id of b.memberIds as string[]) if (!g.memberIds.includes(id)) g.memberIds.push(id)
    g.version++
    g.dateModified = ctx.nowIso()
    return reply.code(202).send({})
  })

  // ---- queues -----------------------------------------------------------------
  app.get<{ Querystring: PageQuery }>(`${V2}/routing/queues`, perm('routing:queue:view'), async (req) =>
    pageOf(req, byName(state.queues.values(), req.query.name), req.query, queue))
  app.get(`${V2}/routing/queues/:id`, perm('routing:queue:view'), async (req: IdReq) =>
    queue(found(state.queues.get(req.params.id), `Queue ${req.params.id}`)))
  /**
   * A member group as a PUT names it: `{id, type}` with a type Genesys knows and
   * an id of that kind (a team's id sent as GROUP is refused, as is a missing type).
   */
  const memberGroupIn = (m: unknown, where: string): SimMemberGroup => {
    if (!isObj(m) || typeof m.id !== 'string') throw badRequest(`${where}.id is required`)
    if (m.type !== 'GROUP' && m.type !== 'TEAM' && m.type !== 'SKILLGROUP') throw badRequest(`${where}.type must be GROUP, TEAM or SKILLGROUP`)
    const known = m.type === 'GROUP' ? state.groups : m.type === 'TEAM' ? state.teams : state.skillGroups
    if (!known.has(m.id)) throw badRequest(`${where}: ${m.id} is not a ${m.type === 'GROUP' ? 'group' : m.type === 'TEAM' ? 'team' : 'skill group'}`)
    return { id: m.id, type: m.type }
  }
  const memberGroupsIn = (list: unknown, where: string): SimMemberGroup[] => {
    if (list === undefined || list === null) return []
    if (!Array.isArray(list)) throw badRequest(`${where} must be an array`)
    const out: SimMemberGroup[] = []
    for (const [i, m] of list.entries()) {
      const g = memberGroupIn(m, `${where}[${i}]`)
      if (!out.some((o) => o.id === g.id)) out.push(g)
    }
    return out
  }
  const cgrIn = (raw: unknown): SimQueue['conditionalGroupRouting'] => {
    if (raw === undefined || raw === null) return undefined
    if (!isObj(raw) || !Array.isArray(raw.rules)) throw badRequest('conditionalGroupRouting.rules must be an array')
    return {
      rules: raw.rules.map((r, i): SimCgrRule => {
        if (!isObj(r)) throw badRequest(`conditionalGroupRouting.rules[${i}] must be an object`)
        const { queue, groups, ...extra } = r
        // Rule 1 always evaluates the queue itself; Genesys refuses it being sent (the provider strips it).
        if (i === 0 && queue !== undefined) throw badRequest('conditionalGroupRouting.rules[0].queue must not be set: the first rule always evaluates this queue')
        let evaluatedQueueId: string | undefined
        if (queue !== undefined && queue !== null) {
          if (!isObj(queue) || typeof queue.id !== 'string' || !state.queues.has(queue.id)) throw badRequest(`conditionalGroupRouting.rules[${i}].queue must name an existing queue`)
          evaluatedQueueId = queue.id
        }
        return { groups: memberGroupsIn(groups, `conditionalGroupRouting.rules[${i}].groups`), ...(evaluatedQueueId ? { evaluatedQueueId } : {}), extra }
      }),
    }
  }
  const bullseyeIn = (raw: unknown): SimQueue['bullseye'] => {
    if (raw === undefined || raw === null) return undefined
    if (!isObj(raw) || !Array.isArray(raw.rings)) throw badRequest('bullseye.rings must be an array')
    return {
      rings: raw.rings.map((r, i): SimRing => {
        if (!isObj(r)) throw badRequest(`bullseye.rings[${i}] must be an object`)
        const { memberGroups, ...extra } = r
        return { memberGroups: memberGroupsIn(memberGroups, `bullseye.rings[${i}].memberGroups`), extra }
      }),
    }
  }

  /**
   * PUT replaces the queue. Refused as Genesys does: `division` (a queue moves
   * through a separate API), `conditionalGroupRouting.rules[0].queue`, untyped or
   * mistyped member groups, and a member group dropped while conditional group
   * routing or a bullseye ring still routes to it.
   */
  app.put(`${V2}/routing/queues/:id`, perm('routing:queue:edit'), async (req: IdReq) => {
    const q = found(state.queues.get(req.params.id), `Queue ${req.params.id}`)
    requireInDivision(ctx, req, 'routing:queue:edit', q.divisionId)
    const b = req.body
    if (!isObj(b) || typeof b.name !== 'string' || b.name.trim() === '') throw badRequest('name is required')
    if (b.division !== undefined) throw badRequest('division cannot be changed with PUT /api/v2/routing/queues/{queueId}; leave it out (queues move between divisions through the division API)')
    const clash = byName(state.queues.values(), b.name).find((other) => other.id !== q.id)
    if (clash !== undefined) throw conflict(`A queue named '${b.name}' already exists`)
    // PUT replaces: memberGroups left out means "no member groups".
    const memberGroups = memberGroupsIn(b.memberGroups ?? [], 'memberGroups')
    const conditionalGroupRouting = cgrIn(b.conditionalGroupRouting)
    const bullseye = bullseyeIn(b.bullseye)
    const referenced = [
      ...(conditionalGroupRouting?.rules ?? []).flatMap((r, i) => r.groups.map((g) => ({ g, by: `conditional group routing rule ${i + 1}` }))),
      ...(bullseye?.rings ?? []).flatMap((r, i) => r.memberGroups.map((g) => ({ g, by: `bullseye ring ${i + 1}` }))),
    ]
    for (const { g, by } of referenced) {
      if (!memberGroups.some((m) => m.id === g.id)) throw badRequest(`member group ${g.id} is used by ${by} and cannot be removed from memberGroups`)
    }
    const { id: _id, name, description, memberGroups: _m, conditionalGroupRouting: _cgr, bullseye: _b, selfUri: _s, dateCreated: _c, dateModified: _dm, memberCount: _mc, version: _v, ...extra } = b
    q.name = name as string
    q.description = typeof description === 'string' ? description : undefined
    q.memberGroups = memberGroups
    if (conditionalGroupRouting) q.conditionalGroupRouting = conditionalGroupRouting
    else delete q.conditionalGroupRouting
    if (bullseye) q.bullseye = bullseye
    else delete q.bullseye
    q.extra = extra
    q.version++
    q.dateModified = ctx.nowIso()
    return queue(q)
  })

  // ---- routing skills and languages ------------------------------------------
  const prefixed = (list: Iterable<SimNamed>, name: string | undefined): SimNamed[] => {
    const p = name?.replace(/\*$/, '').toLowerCase()
    return [...list].filter((x) => p === undefined || x.name.toLowerCase().startsWith(p))
  }
  app.get<{ Querystring: PageQuery }>(`${V2}/routing/skills`, perm('routing:skill:view'), async (req) =>
    pageOf(req, prefixed(state.skills.values(), req.query.name), req.query, named('skills')))
  app.get(`${V2}/routing/skills/:id`, perm('routing:skill:view'), async (req: IdReq) =>
    named('skills')(found(state.skills.get(req.params.id), `Skill ${req.params.id}`)))
  app.get<{ Querystring: PageQuery }>(`${V2}/routing/languages`, perm('routing:language:view'), async (req) =>
    pageOf(req, prefixed(state.languages.values(), req.query.name), req.query, named('languages')))
  app.get(`${V2}/routing/languages/:id`, perm('routing:language:view'), async (req: IdReq) =>
    named('languages')(found(state.languages.get(req.params.id), `Language ${req.params.id}`)))
}
