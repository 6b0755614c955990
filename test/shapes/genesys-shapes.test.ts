import { createMemoryWorkerRegistry } from '../../src/provisioning/store/memory.js'
import t from 'tap'
import { queuePutBody, QUEUE_WRITABLE_FIELDS } from '../../src/genesys/client.js'
import { isVersionConflict } from '../../src/genesys/errors.js'
import { rejection } from '../helpers/genesys.js'
import type { Queue } from '../../src/genesys/types.js'
import { DEFAULT_DENIED_PERMISSIONS, parsePermission, type PermissionPattern } from '../../src/provisioning/checks/permissions.js'
import { upstreamIssues } from '../../src/provisioning/checks/upstream-checks.js'
import { createGroupMembership } from '../../src/provisioning/group-membership.js'
import { createReferenceCache, gatherFacts, createNameGroupResolver, requesterOf } from '../../src/provisioning/facts.js'
import { fixture, replay, withBody, type Fixture } from './replay.js'

/**
 * The client against Genesys' own response shapes (taken from the SDK models
 * and the Terraform provider, see each fixture's `source`), not only against
 * our simulator.
 */

const QUEUE = fixture('queue-busy')
const queueBody = QUEUE.body as Queue & Record<string, unknown>
const QUEUE_PATH = `/api/v2/routing/queues/${queueBody.id}`
const denied = DEFAULT_DENIED_PERMISSIONS.map((p) => parsePermission(p) as PermissionPattern)

t.test('queue PUT from a real queue: allow-listed fields, typed member groups, no division, rule 1 without its queue', async (t) => {
  const added = { id: 'g0000000-0000-4000-8000-00000000new1', type: 'GROUP' as const }
  const after = structuredClone(queueBody)
  after.memberGroups = [...(after.memberGroups ?? []), { ...added, name: 'New Group' }]
  const { genesys, requests } = await replay(t, {
    [`GET ${QUEUE_PATH}`]: [QUEUE, withBody(QUEUE, after)],
    [`PUT ${QUEUE_PATH}`]: withBody(QUEUE, after),
  })
  await genesys.client.queues.updateMemberGroups(queueBody.id, (current) => [...current, added])
  const put = requests.find((r) => r.method === 'PUT')?.body as Record<string, unknown>
  t.ok(put, 'one PUT')
  t.notOk('division' in put, 'no division')
  for (const k of Object.keys(put)) t.ok((QUEUE_WRITABLE_FIELDS as readonly string[]).includes(k), `${k} is writable`)
  for (const k of ['memberCount', 'userMemberCount', 'joinedMemberCount', 'dateCreated', 'dateModified', 'modifiedBy', 'createdBy', 'selfUri', 'id']) t.notOk(k in put, `read-only ${k} left out`)
  t.same(put.memberGroups, [
    { id: 'g0000000-0000-4000-8000-00000000gr01', type: 'GROUP' },
    { id: 't0000000-0000-4000-8000-00000000tm01', type: 'TEAM' },
    { id: 's0000000-0000-4000-8000-00000000sk01', type: 'SKILLGROUP' },
    { id: 'g0000000-0000-4000-8000-00000000cg01', type: 'GROUP' },
    { id: 'g0000000-0000-4000-8000-00000000rg02', type: 'GROUP' },
    added,
  ], 'every member group with the type it was read with, plus ours')
  const rules = (put.conditionalGroupRouting as { rules: Array<Record<string, unknown>> }).rules
  t.notOk('queue' in (rules[0] ?? {}), 'rule 1 without its queue')
  t.same(rules[1]?.queue, (queueBody.conditionalGroupRouting?.rules?.[1] as Record<string, unknown>).queue, 'a later rule keeps the queue it evaluates')
  t.same(rules[0]?.groups, queueBody.conditionalGroupRouting?.rules?.[0]?.groups, 'rule groups as read')
  for (const k of ['mediaSettings', 'routingRules', 'bullseye', 'acwSettings', 'skillEvaluationMethod', 'scoringMethod', 'enableTranscription', 'callingPartyName']) t.same(put[k], queueBody[k], `${k} sent back as read`)
  t.same(requests.map((r) => r.method), ['GET', 'PUT', 'GET'], 'read, write, read back')
  t.ok('queue' in (queueBody.conditionalGroupRouting?.rules?.[0] ?? {}), 'the fixture itself still has rule 1\'s queue (the body is a copy)')
  t.same(queuePutBody(queueBody, []).memberGroups, [], 'the body builder is pure')
})

t.test('a queue change that did not stick is an error, not a silent loss', async (t) => {
  const { genesys } = await replay(t, {
    // The re-read shows the queue without our group: somebody else's PUT won.
    [`GET ${QUEUE_PATH}`]: QUEUE,
    [`PUT ${QUEUE_PATH}`]: QUEUE,
  })
  const err = await genesys.client.queues.updateMemberGroups(queueBody.id, (current) => [...current, { id: 'g-new', type: 'GROUP' }]).catch((e: unknown) => e)
  t.match(err, { code: 'PROV_ERR_CONFLICT', status: 409, retryable: true })
})

t.test('a member group of unknown type stops the write', async (t) => {
  const odd = structuredClone(queueBody)
  odd.memberGroups = [...(odd.memberGroups ?? []), { id: 'x', type: 'DEPARTMENT' }]
  const { genesys, requests } = await replay(t, { [`GET ${QUEUE_PATH}`]: withBody(QUEUE, odd) })
  const err = await rejection(genesys.client.queues.updateMemberGroups(queueBody.id, (c) => [...c, { id: 'g-new', type: 'GROUP' }]))
  t.equal(err.failure, 'invalid-response')
  t.notOk(requests.some((r) => r.method === 'PUT'), 'nothing written')
})

t.test('a role listed and read by id without permissionPolicies is refused as unverifiable', async (t) => {
  const emptyUsers: Fixture = { source: 'SCIM ListResponse with no match', status: 200, headers: { 'content-type': 'application/scim+json' }, body: { schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'], totalResults: 0, startIndex: 1, itemsPerPage: 0, Resources: [] } }
  const home: Fixture = { source: 'GET /api/v2/authorization/divisions/home: AuthzDivision', status: 200, headers: { 'content-type': 'application/json' }, body: { id: 'd1000000-0000-4000-8000-000000000001', name: 'Home', homeDivision: true, selfUri: '/api/v2/authorization/divisions/d1000000-0000-4000-8000-000000000001' } }
  const { genesys, requests } = await replay(t, {
    'GET /api/v2/scim/v2/users': emptyUsers,
    'GET /api/v2/authorization/divisions/home': home,
    'GET /api/v2/authorization/roles': fixture('role-page-without-policies'),
    'GET /api/v2/authorization/roles/r0000000-0000-4000-8000-00000000ro01': fixture('role-by-id-without-policies'),
  })
  const hire = { hrId: '167844', email: 'ada.lovelace@example.com', displayName: 'Ada Lovelace', roles: ['Workforce Admin'] }
  const facts = await gatherFacts(hire, {
    directory: genesys.client,
    groups: createNameGroupResolver(genesys.client, { ownerOf: async () => undefined }),
    cache: createReferenceCache({ now: Date.now }, 0),
    registry: createMemoryWorkerRegistry(),
    requester: requesterOf({ id: 'hris', divisions: '*' }),
    reservedBy: async () => undefined,
    externalIdReservedBy: async () => undefined,
  })
  t.same(facts.roles, [{ name: 'Workforce Admin', found: { id: 'r0000000-0000-4000-8000-00000000ro01', name: 'Workforce Admin', permissions: ['group_creation'] } }], 'no policies in the facts: unknown, not empty')
  t.ok(requests.some((r) => r.path === '/api/v2/authorization/roles/r0000000-0000-4000-8000-00000000ro01'), 'the role was read by id')
  t.same(upstreamIssues(hire, facts, { denied }).map((i) => i.code), ['role.unverifiable'])
})

const MEMBER = 'u1'
for (const [name, status] of [['conflict-scim-400-invalidvers', 400], ['conflict-scim-409-version', 409], ['conflict-errorbody-400-version', 400]] as const) {
  t.test(`${name}: recognised as a stale version; one re-read, then the retry lands`, async (t) => {
    const groupId = 'g0000000-0000-4000-8000-00000000sa01'
    const group = (fixture('scim-groups-case').body as { Resources: Array<Record<string, unknown>> }).Resources[0]
    // The recorded group, with the member a removal takes out (removals carry If-Match; adds do not).
    const got: Fixture = { source: 'GET /api/v2/scim/v2/groups/{id}', status: 200, headers: { 'content-type': 'application/scim+json', etag: '"7"' }, body: { ...group, members: [{ value: MEMBER }] } }
    const { genesys, requests } = await replay(t, {
      [`GET /api/v2/scim/v2/groups/${groupId}`]: got,
      [`PATCH /api/v2/scim/v2/groups/${groupId}`]: [fixture(name), got],
    })
    await createGroupMembership(genesys.client.groups, { random: () => 0 }).remove(groupId, MEMBER)
    t.same(requests.map((r) => r.method), ['GET', 'PATCH', 'GET', 'PATCH'], 'read, refused write, one re-read, the retry')
    t.same(requests.filter((r) => r.method === 'PATCH').map((r) => r.headers['if-match']), ['"7"', '"7"'])
    const direct = await replay(t, { [`PATCH /api/v2/scim/v2/groups/${groupId}`]: fixture(name) })
    const err = await rejection(direct.genesys.client.groups.patchMembers(groupId, { add: ['u1'] }, '6'))
    t.equal(err.upstreamStatus, status)
    t.ok(isVersionConflict(err), 'classified as a version conflict')
  })
}

t.test('a create answered 409 without scimType reaches the caller as such', async (t) => {
  const { genesys } = await replay(t, { 'POST /api/v2/scim/v2/users': fixture('create-409-without-scimtype') })
  const err = await rejection(genesys.client.users.create({ userName: 'ada.lovelace@example.com', displayName: 'Ada Lovelace', externalId: '167844' }))
  t.match(err, { upstreamStatus: 409, operation: 'scim.users.create', retryable: false })
  t.equal(err.scimType, undefined)
  t.equal(err.upstreamMessage, 'User name already in use by non-deleted user.')
})

t.test('a 429 without Retry-After pauses the budget for the seconds its message names', async (t) => {
  const { genesys, pauses } = await replay(t, { 'GET /api/v2/authorization/divisions/home': fixture('rate-limit-429-without-retry-after') })
  const err = await rejection(genesys.client.divisions.home())
  t.equal(err.retryAfterMs, 42_000)
  t.equal(err.retryAfter, 42, 'Retry-After of our own answer')
  t.same(pauses, [42_000], 'everyone sharing the budget waits 42 s, not 1 s')
})

t.test('a quoted meta.version (no ETag) becomes If-Match "3", never ""3""', async (t) => {
  const user = fixture('scim-user-meta-version')
  const id = (user.body as { id: string }).id
  const { genesys, requests } = await replay(t, { [`GET /api/v2/scim/v2/users/${id}`]: user, [`PATCH /api/v2/scim/v2/users/${id}`]: user })
  const got = await genesys.client.users.get(id)
  t.equal(got.version, '3')
  await genesys.client.users.patch(id, [{ op: 'replace', path: 'title', value: 'Countess' }], got.version)
  t.equal(requests.find((r) => r.method === 'PATCH')?.headers['if-match'], '"3"')
})

t.test('a group looked up in another case is found as Genesys spells it', async (t) => {
  const { genesys, requests } = await replay(t, { 'GET /api/v2/scim/v2/groups': fixture('scim-groups-case') })
  t.equal((await genesys.client.groups.findByDisplayName('sales'))?.displayName, 'Sales')
  t.equal(new URLSearchParams(requests[0]?.query ?? '').get('filter'), 'displayName eq "sales"')
})
