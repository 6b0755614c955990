import t from 'tap'
import { filterQuery, newUser, PATCH_OP, SCIM, SEED, startSim } from '../helpers/simulator.js'

type Obj = Record<string, unknown>
interface Group { id: string, displayName: string, members: Array<{ value: string }>, meta: { version: string } }
interface ListBody { totalResults: number, Resources: Group[] }

t.test('list and filter by displayName', async (t) => {
  const h = await startSim(t)
  const all = await h.call<ListBody & Obj>('GET', `${SCIM}/groups`)
  t.equal(all.status, 200)
  t.match(all.headers.get('content-type'), /^application\/scim\+json/)
  t.same(all.body.schemas, ['urn:ietf:params:scim:api:messages:2.0:ListResponse'])
  t.same(all.body.Resources.map((g) => g.displayName), ['Sales', 'Support', 'Support Tier 2', 'Billing'])
  const one = await h.call<ListBody>('GET', `${SCIM}/Groups?${filterQuery('displayName eq "Support"')}`)
  t.same(one.body.Resources.map((g) => g.id), [SEED.groups.support], 'exact match, not a prefix')
  t.same(one.body.Resources[0], {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
    id: SEED.groups.support,
    displayName: 'Support',
    members: [{ value: SEED.users.agent, display: 'Erin Existing', type: 'User', $ref: `${h.sim.url}${SCIM}/users/${SEED.users.agent}` }],
    meta: { resourceType: 'Group', lastModified: (one.body.Resources[0]?.meta as unknown as Obj).lastModified, location: `${h.sim.url}${SCIM}/groups/${SEED.groups.support}`, version: '"1"' },
  })
  const bad = await h.call<Obj>('GET', `${SCIM}/groups?${filterQuery('displayName sw "Sup"')}`)
  t.match(bad.body, { status: '400', scimType: 'invalidFilter' })
})

t.test('GET one with ETag and If-None-Match', async (t) => {
  const h = await startSim(t)
  const r = await h.call<Group>('GET', `/api/v2/scim/groups/${SEED.groups.sales}`)
  t.equal(r.status, 200)
  t.equal(r.headers.get('etag'), '"1"')
  t.equal((await h.call('GET', `${SCIM}/groups/${SEED.groups.sales}`, { headers: { 'if-none-match': '"1"' } })).status, 304)
  t.equal((await h.call('GET', `${SCIM}/groups/nope`)).status, 404)
})

t.test('PATCH members: add, remove by filter, If-Match, validation', async (t) => {
  const h = await startSim(t)
  const u = await h.call<Obj>('POST', `${SCIM}/users`, { body: newUser('member@example.com') })
  const uid = u.body.id as string
  const patch = (ops: unknown[], version?: string) => h.call<Group & Obj>('PATCH', `${SCIM}/groups/${SEED.groups.sales}`, {
    body: { schemas: [PATCH_OP], Operations: ops },
    headers: version === undefined ? {} : { 'if-match': version },
  })

  const add = await patch([{ op: 'add', path: 'members', value: [{ value: uid }, { value: SEED.users.agent }] }], '"1"')
  t.equal(add.status, 200)
  t.equal(add.headers.get('etag'), '"2"')
  t.same(add.body.members.map((m) => m.value), [uid, SEED.users.agent])
  const user = await h.call<Obj>('GET', `${SCIM}/users/${uid}`)
  t.same(user.body.groups, [{ value: SEED.groups.sales, display: 'Sales', $ref: `${h.sim.url}${SCIM}/groups/${SEED.groups.sales}` }], 'the user resource reflects it')

  const stale = await patch([{ op: 'remove', path: `members[value eq "${uid}"]` }], '"1"')
  t.equal(stale.status, 400)
  t.match(stale.body, { schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '400', scimType: 'invalidVers' })

  const remove = await patch([{ op: 'remove', path: `members[value eq "${uid}"]` }], '"2"')
  t.equal(remove.status, 200)
  t.same(remove.body.members.map((m) => m.value), [SEED.users.agent])
  t.equal(remove.body.meta.version, '"3"')

  const again = await patch([{ op: 'add', path: 'members', value: [{ value: SEED.users.agent }] }])
  t.same(again.body.members.map((m) => m.value), [SEED.users.agent], 'adding a member twice is harmless')

  for (const [name, value] of [['unknown user', 'nope'], ['deleted user', SEED.users.deleted], ['a group (no nesting)', SEED.groups.billing]]) {
    const r = await patch([{ op: 'add', path: 'members', value: [{ value }] }])
    t.equal(r.status, 400, name)
    t.match(r.body, { status: '400', scimType: 'invalidValue' })
  }
  t.equal(h.sim.state.groups.get(SEED.groups.sales)?.memberIds.length, 1)

  const rfc = await patch([{ op: 'remove', path: 'members', value: [{ value: SEED.users.agent }] }])
  t.same(rfc.body.members, [], 'RFC-style remove with a value list works too')
})

t.test('PUT replaces members', async (t) => {
  const h = await startSim(t)
  const r = await h.call<Group>('PUT', `${SCIM}/groups/${SEED.groups.billing}`, {
    body: { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Billing', members: [{ value: SEED.users.supervisor }] },
    headers: { 'if-match': '"1"' },
  })
  t.equal(r.status, 200)
  t.same(r.body.members.map((m) => m.value), [SEED.users.supervisor])
  const clash = await h.call<Obj>('PUT', `${SCIM}/groups/${SEED.groups.billing}`, { body: { displayName: 'Sales' } })
  t.equal(clash.status, 409)
})

t.test('no POST and no DELETE through SCIM', async (t) => {
  const h = await startSim(t)
  const post = await h.call<Obj>('POST', `${SCIM}/groups`, { body: { displayName: 'New' } })
  t.equal(post.status, 405)
  t.match(post.body, { status: 405, code: 'method.not.allowed' })
  const del = await h.call<Obj>('DELETE', `${SCIM}/groups/${SEED.groups.sales}`)
  t.equal(del.status, 405)
  t.ok(h.sim.state.groups.has(SEED.groups.sales))
  t.equal(h.sim.state.groups.size, 4)
})

t.test('SCIM discovery endpoints', async (t) => {
  const h = await startSim(t)
  const spc = await h.call<Obj>('GET', `${SCIM}/serviceproviderconfig`)
  t.equal(spc.status, 200)
  t.match(spc.body, { patch: { supported: true }, bulk: { supported: false }, etag: { supported: true } })
  const types = await h.call<{ Resources: Obj[] }>('GET', '/api/v2/scim/ResourceTypes')
  t.same(types.body.Resources.map((r) => r.id), ['User', 'Group'])
  const schemas = await h.call<{ totalResults: number }>('GET', `${SCIM}/schemas`)
  t.equal(schemas.body.totalResults, 4)
  t.equal((await h.call('GET', `${SCIM}/schemas`, { token: null })).status, 401)
})
