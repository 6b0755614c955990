import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type, type Static } from 'typebox'
import { errors } from '../../errors.js'
import type { MappingService } from '../../groups/mappings.js'
import { normalizeGroupPath } from '../../provisioning/checks/static-checks.js'
import type { GroupMapping, GroupSync } from '../../groups/ports.js'
import { SYNCS_PATH, type GroupSyncService } from '../../groups/sync.js'
import { BEARER_SECURITY, requireClient } from '../plugins/auth.js'
import { problemResponses } from '../schemas/problem.js'
import { ConfirmQuery, GroupSyncSchema, HrGroupPathParams, MappingInputSchema, MappingSchema, PatchMembersSchema, ReplaceMembersSchema } from '../schemas/groups.js'

export interface GroupRoutesOptions {
  mappings: MappingService
  syncs: GroupSyncService
  maxRemovalsPercent: number
}

const toMappingView = (m: GroupMapping): Static<typeof MappingSchema> => ({
  hrGroupPath: m.hrPath, division: m.division, genesysGroup: m.genesysGroup, queues: m.queues, ...(m.shared === true ? { shared: true } : {}), createdAt: m.createdAt, updatedAt: m.updatedAt, updatedBy: m.updatedBy,
})

const toSyncView = (s: GroupSync): Static<typeof GroupSyncSchema> => ({
  id: s.id,
  hrGroupPath: s.hrPath,
  division: s.division,
  genesysGroupId: s.groupId,
  mode: s.change.mode,
  confirmed: s.confirmed,
  status: s.status,
  createdAt: s.createdAt,
  updatedAt: s.updatedAt,
  attempts: s.attempts,
  ...(s.result ? { result: s.result } : {}),
  ...(s.error ? { error: s.error } : {}),
})

const SyncIdParams = Type.Object({ id: Type.String({ pattern: '^gsy_[0-9A-Z]{26}$', description: 'Group sync id.' }) })

export async function groupRoutes (base: FastifyInstance, opts: GroupRoutesOptions): Promise<void> {
  const app = base.withTypeProvider<TypeBoxTypeProvider>()
  const { mappings, syncs } = opts
  const divisions = 'A mapping belongs to one division: only clients allowed in it see it (404 otherwise) or change it (403 otherwise).'

  app.put('/v1/group-mappings/:hrGroupPath', {
    config: { scope: 'groups:write' },
    schema: {
      operationId: 'putGroupMapping',
      tags: ['groups'],
      summary: 'Map an HR group path to a Genesys group and its routing queues',
      description: `Resolves the Genesys group (creating it with \`"create": true\`), resolves each queue by name (it must be in the mapping's division) and makes the group a member of each, keeping the queues' other member groups (groups, teams and skill groups, each with its type) and settings; queues dropped from an existing mapping lose the group. Each queue change is serialised across replicas and read back. A queue whose conditional group routing or bullseye rings still route to the group is not released: 409 with issue \`queue.groupReferenced\` naming the rule, and nothing is changed. New hires with this HR group join the mapped Genesys group. ${divisions}`,
      security: BEARER_SECURITY,
      params: HrGroupPathParams,
      body: MappingInputSchema,
      response: { 200: MappingSchema, 201: MappingSchema, ...problemResponses(400, 403, 409, 422, 503) },
    },
  }, async (request, reply) => {
    const { mapping, created } = await mappings.put(requireClient(request), request.params.hrGroupPath, request.body)
    return reply.code(created ? 201 : 200).send(toMappingView(mapping))
  })

  app.get('/v1/group-mappings', {
    config: { scope: 'provisioning:read' },
    schema: {
      operationId: 'listGroupMappings',
      tags: ['groups'],
      summary: 'The group mappings of your divisions',
      security: BEARER_SECURITY,
      response: { 200: Type.Object({ items: Type.Array(MappingSchema) }, { additionalProperties: false, examples: [{ items: (MappingSchema as { examples?: unknown[] }).examples ?? [] }] }), ...problemResponses() },
    },
  }, async (request) => ({ items: (await mappings.list(requireClient(request))).map(toMappingView) }))

  app.get('/v1/group-mappings/:hrGroupPath', {
    config: { scope: 'provisioning:read' },
    schema: {
      operationId: 'getGroupMapping',
      tags: ['groups'],
      summary: 'One group mapping',
      security: BEARER_SECURITY,
      params: HrGroupPathParams,
      response: { 200: MappingSchema, ...problemResponses(400, 404, 422) },
    },
  }, async (request) => toMappingView(await mappings.get(requireClient(request), request.params.hrGroupPath)))

  app.delete('/v1/group-mappings/:hrGroupPath', {
    config: { scope: 'groups:write' },
    schema: {
      operationId: 'deleteGroupMapping',
      tags: ['groups'],
      summary: 'Forget a group mapping (the Genesys group and its queue memberships stay)',
      security: BEARER_SECURITY,
      params: HrGroupPathParams,
      response: { 204: Type.Null({ description: 'Deleted.' }), ...problemResponses(400, 403, 404, 422) },
    },
  }, async (request, reply) => {
    await mappings.delete(requireClient(request), request.params.hrGroupPath)
    return reply.code(204).send(null)
  })

  const syncDescription = `A durable job: it resolves HR ids to Genesys users (unknown ones are reported, not fatal), reads the group with its version and sends only the changes needed, in batches guarded by If-Match (re-reading on a conflict). A sync that would remove more than ${opts.maxRemovalsPercent} % of the members stops with \`needs-confirmation\` and changes nothing until sent with \`?confirm=true\`. The answer is **202** with the sync resource; its outcome also arrives as a \`group.sync.completed\` webhook.`

  app.put('/v1/groups/:hrGroupPath/members', {
    config: { scope: 'groups:write' },
    schema: {
      operationId: 'replaceGroupMembers',
      tags: ['groups'],
      summary: 'Make the group hold exactly these HR ids',
      description: syncDescription,
      security: BEARER_SECURITY,
      params: HrGroupPathParams,
      querystring: ConfirmQuery,
      body: ReplaceMembersSchema,
      response: { 202: GroupSyncSchema, ...problemResponses(400, 403, 404, 422) },
    },
  }, async (request, reply) => {
    const sync = await syncs.accept(requireClient(request), request.params.hrGroupPath, { mode: 'replace', members: request.body.members }, request.query.confirm)
    return reply.code(202).header('location', `${SYNCS_PATH}/${sync.id}`).send(toSyncView(sync))
  })

  app.patch('/v1/groups/:hrGroupPath/members', {
    config: { scope: 'groups:write' },
    schema: {
      operationId: 'changeGroupMembers',
      tags: ['groups'],
      summary: 'Add and remove HR ids',
      description: syncDescription,
      security: BEARER_SECURITY,
      params: HrGroupPathParams,
      querystring: ConfirmQuery,
      body: PatchMembersSchema,
      response: { 202: GroupSyncSchema, ...problemResponses(400, 403, 404, 422) },
    },
  }, async (request, reply) => {
    const { add, remove } = request.body
    if (add.length === 0 && remove.length === 0) {
      throw errors.validation('Nothing to change.', [{ code: 'members.empty', path: '/add', message: 'give at least one HR id to add or remove' }])
    }
    const sync = await syncs.accept(requireClient(request), request.params.hrGroupPath, { mode: 'delta', add, remove }, request.query.confirm)
    return reply.code(202).header('location', `${SYNCS_PATH}/${sync.id}`).send(toSyncView(sync))
  })

  app.get('/v1/group-syncs/:id', {
    config: { scope: 'provisioning:read' },
    schema: {
      operationId: 'getGroupSync',
      tags: ['groups'],
      summary: 'One membership sync with its outcome',
      security: BEARER_SECURITY,
      params: SyncIdParams,
      response: { 200: GroupSyncSchema, ...problemResponses(400, 404) },
    },
  }, async (request) => toSyncView(await syncs.get(requireClient(request), request.params.id)))

  app.get('/v1/group-syncs', {
    config: { scope: 'provisioning:read' },
    schema: {
      operationId: 'listGroupSyncs',
      tags: ['groups'],
      summary: 'Your membership syncs, newest first',
      security: BEARER_SECURITY,
      querystring: Type.Object({
        hrGroupPath: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })),
        limit: Type.Integer({ minimum: 1, maximum: 100, default: 25 }),
        cursor: Type.Optional(Type.String({ maxLength: 200 })),
      }, { additionalProperties: false }),
      response: {
        200: Type.Object({ items: Type.Array(GroupSyncSchema), nextCursor: Type.Optional(Type.String()) }, { additionalProperties: false, examples: [{ items: (GroupSyncSchema as { examples?: unknown[] }).examples ?? [] }] }),
        ...problemResponses(400),
      },
    },
  }, async (request) => {
    const { hrGroupPath, ...page } = request.query
    const found = await syncs.list(requireClient(request), hrGroupPath === undefined ? page : { ...page, hrPath: normalizeGroupPath(hrGroupPath) })
    return { items: found.items.map(toSyncView), ...(found.nextCursor ? { nextCursor: found.nextCursor } : {}) }
  })
}
