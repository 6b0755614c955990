import t from 'tap'
import { ENTERPRISE, filterQuery, GENESYS, newUser, PATCH_OP, SCIM, SEED, startSim } from '../helpers/simulator.js'

type Obj = Record<string, unknown>
interface ListBody { schemas: string[], totalResults: number, startIndex: number, itemsPerPage: number, Resources: Obj[] }

const USER_NAME_IN_USE = {
  schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
  status: '409',
  scimType: 'uniqueness',
  detail: 'User name already in use by non-deleted user.',
}

t.test('list: envelope, active-only default, paging, path variants', async (t) => {
  const h = await startSim(t)
  const res = await h.call<ListBody>('GET', `${SCIM}/users`)
  t.equal(res.status, 200)
  t.match(res.headers.get('content-type'), /^application\/scim\+json/)
  t.same(res.body.schemas, ['urn:ietf:params:scim:api:messages:2.0:ListResponse'])
  t.same(Object.keys(res.body).sort(), ['Resources', 'itemsPerPage', 'schemas', 'startIndex', 'totalResults'])
  t.same(res.body.Resources.map((u) => u.userName).sort(), ['existing.agent@example.com', 'existing.supervisor@example.com'], 'no inactive, no deleted')
  t.equal(res.body.totalResults, 2)
  t.equal(res.body.itemsPerPage, 2)

  const page = await h.call<ListBody>('GET', `${SCIM}/users?startIndex=2&count=1`)
  t.match(page.body, { totalResults: 2, startIndex: 2, itemsPerPage: 1 })
  t.equal(page.body.Resources.length, 1)
  const empty = await h.call<ListBody>('GET', `${SCIM}/users?count=0`)
  t.match(empty.body, { totalResults: 2, itemsPerPage: 0, Resources: [] })

  for (const path of ['/api/v2/scim/v2/Users', '/api/v2/scim/users', '/API/V2/SCIM/V2/USERS']) {
    const r = await h.call<ListBody>('GET', path)
    t.equal(r.status, 200, path)
    t.equal(r.body.totalResults, 2)
  }
  const inactive = await h.call<ListBody>('GET', `${SCIM}/users?${filterQuery('active eq false')}`)
  t.same(inactive.body.Resources.map((u) => u.userName), ['inactive.agent@example.com'])
})

t.test('filters: eq on the documented attributes; anything else is invalidFilter', async (t) => {
  const h = await startSim(t)
  const names = async (filter: string) => {
    const r = await h.call<ListBody>('GET', `${SCIM}/users?${filterQuery(filter)}`)
    t.equal(r.status, 200, filter)
    return r.body.Resources.map((u) => u.userName)
  }
  t.same(await names('userName eq "existing.agent@example.com"'), ['existing.agent@example.com'])
  t.same(await names('userName eq "EXISTING.AGENT@example.com"'), ['existing.agent@example.com'], 'userName is case-insensitive')
  t.same(await names('externalId eq "HR-0001"'), ['existing.agent@example.com'])
  t.same(await names('externalId eq "hr-0001"'), [], 'externalId is case-exact')
  t.same(await names('externalId eq "HR-0002"'), ['inactive.agent@example.com'], 'a filter finds inactive users')
  t.same(await names('externalId eq "HR-0003"'), [], 'but never deleted ones')
  t.same(await names('email eq "existing.agent@example.com"'), ['existing.agent@example.com'])
  t.same(await names('employeeNumber eq "E0001"'), ['existing.agent@example.com'])
  t.same(await names(`${ENTERPRISE}:employeeNumber eq "E0001"`), ['existing.agent@example.com'])
  t.same(await names('division eq "BPO Beta"'), ['inactive.agent@example.com'])
  t.same(await names(`manager eq ${SEED.users.supervisor}`), ['existing.agent@example.com'])
  t.same(await names(`manager eq "${SEED.users.supervisor}"`), ['existing.agent@example.com'])
  t.same(await names(`id eq "${SEED.users.supervisor}"`), ['existing.supervisor@example.com'])
  t.same(await names('active eq true'), ['existing.supervisor@example.com', 'existing.agent@example.com'])

  for (const bad of ['userName co "agent"', 'nickName eq "x"', 'userName eq', 'userName eq "a" and active eq true', '(userName eq "a")', 'userName eq "unterminated']) {
    const r = await h.call<Obj>('GET', `${SCIM}/users?${filterQuery(bad)}`)
    t.equal(r.status, 400, bad)
    t.same(Object.keys(r.body).sort(), ['detail', 'schemas', 'scimType', 'status'])
    t.match(r.body, { schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '400', scimType: 'invalidFilter' })
  }
})

t.test('create: 201, full resource shape, ETag and Location', async (t) => {
  const h = await startSim(t)
  const body = newUser('jane.doe@example.com', {
    displayName: 'Jane Doe',
    title: 'Agent',
    externalId: 'HR-1234',
    password: 'never-returned',
    emails: [{ value: 'jane.doe@example.com', type: 'work', primary: true }],
    phoneNumbers: [{ value: '+442071234567', type: 'mobile' }],
    roles: [{ value: 'Agent' }, { value: 'Employee' }],
    [ENTERPRISE]: { division: 'BPO Alpha', department: 'Support', employeeNumber: 'E1234', manager: { value: SEED.users.supervisor }, dateHire: '2030-02-01' },
    [GENESYS]: { routingSkills: [{ name: 'Tech Support', proficiency: 4 }], routingLanguages: [{ name: 'Spanish', proficiency: 3 }] },
  })
  const res = await h.call<Obj>('POST', `${SCIM}/users`, { body })
  t.equal(res.status, 201)
  t.match(res.headers.get('content-type'), /^application\/scim\+json/)
  t.equal(res.headers.get('etag'), '"1"')
  const id = res.body.id as string
  t.match(id, /^[0-9a-f-]{36}$/)
  t.equal(res.headers.get('location'), `${h.sim.url}${SCIM}/users/${id}`)
  t.notOk('password' in res.body)
  t.notMatch(res.text, 'never-returned')
  t.same(res.body, {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:User', ENTERPRISE, GENESYS],
    id,
    userName: 'jane.doe@example.com',
    displayName: 'Jane Doe',
    active: true,
    title: 'Agent',
    externalId: 'HR-1234',
    emails: [{ value: 'jane.doe@example.com', type: 'work', primary: true }],
    phoneNumbers: [{ value: '+442071234567', type: 'mobile' }],
    roles: [{ value: 'Agent' }, { value: 'Employee' }],
    groups: [],
    [ENTERPRISE]: { division: 'BPO Alpha', department: 'Support', employeeNumber: 'E1234', manager: { value: SEED.users.supervisor }, dateHire: '2030-02-01' },
    [GENESYS]: {
      routingSkills: [{ name: 'Tech Support', proficiency: 4 }],
      routingLanguages: [{ name: 'Spanish', proficiency: 3 }],
      externalIds: [{ authority: 'x-pc:scimv2:v1', value: 'HR-1234' }],
    },
    meta: { resourceType: 'User', created: (res.body.meta as Obj).created, lastModified: (res.body.meta as Obj).lastModified, location: `${h.sim.url}${SCIM}/users/${id}`, version: '"1"' },
  })

  t.test('roles became grants in the user division', async (t) => {
    const s = await h.call<{ grants: Array<{ role: { name: string }, division: { name: string } }> }>('GET', `/api/v2/authorization/subjects/${id}`)
    t.same(s.body.grants.map((g) => `${g.role.name}@${g.division.name}`).sort(), ['Agent@BPO Alpha', 'Employee@BPO Alpha'])
  })

  t.test('GET returns it; If-None-Match current ⇒ 304', async (t) => {
    const got = await h.call<Obj>('GET', `${SCIM}/users/${id}`)
    t.equal(got.status, 200)
    t.equal(got.headers.get('etag'), '"1"')
    t.same(got.body, res.body)
    const nm = await h.call('GET', `${SCIM}/users/${id}`, { headers: { 'if-none-match': '"1"' } })
    t.equal(nm.status, 304)
    t.equal(nm.text, '')
    t.equal((await h.call('GET', `${SCIM}/users/${id}`, { headers: { 'if-none-match': '"0"' } })).status, 200)
  })

  t.test('division defaults to Home; application/json accepted', async (t) => {
    const r = await h.call<Obj>('POST', `${SCIM}/users`, { body: newUser('plain@example.com'), contentType: 'application/json' })
    t.equal(r.status, 201)
    t.match(r.body[ENTERPRISE], { division: 'Home' })
    t.same(r.body.roles, [])
  })

  t.test('active:false creates an inactive user', async (t) => {
    const r = await h.call<Obj>('POST', `${SCIM}/users`, { body: newUser('off@example.com', { active: false }) })
    t.equal(r.body.active, false)
    t.equal(h.sim.state.users.get(r.body.id as string)?.state, 'inactive')
  })
})

t.test('create: validation', async (t) => {
  const h = await startSim(t)
  const cases: Array<[string, Obj, RegExp]> = [
    ['no userName', { displayName: 'x' }, /userName/],
    ['no displayName', { userName: 'x@example.com' }, /displayName/],
    ['unknown role', newUser('a@example.com', { roles: [{ value: 'Astronaut' }] }), /Astronaut/],
    ['unknown division', newUser('a@example.com', { [ENTERPRISE]: { division: 'Mars' } }), /Mars/],
    ['unknown skill', newUser('a@example.com', { [GENESYS]: { routingSkills: [{ name: 'Juggling', proficiency: 1 }] } }), /Juggling/],
    ['skill with other case', newUser('a@example.com', { [GENESYS]: { routingSkills: [{ name: 'billing', proficiency: 1 }] } }), /billing/],
    ['unknown language', newUser('a@example.com', { [GENESYS]: { routingLanguages: [{ name: 'Klingon', proficiency: 1 }] } }), /Klingon/],
    ['proficiency out of range', newUser('a@example.com', { [GENESYS]: { routingSkills: [{ name: 'Billing', proficiency: 9 }] } }), /proficiency/],
    ['phone not E.164', newUser('a@example.com', { phoneNumbers: [{ value: '555-1234', type: 'work' }] }), /E\.164/],
    ['unknown phone type', newUser('a@example.com', { phoneNumbers: [{ value: '+14155550100', type: 'pager' }] }), /pager/],
    ['unknown manager', newUser('a@example.com', { [ENTERPRISE]: { manager: { value: SEED.users.deleted } } }), /Manager/],
    ['bad dateHire', newUser('a@example.com', { [ENTERPRISE]: { dateHire: '01/02/2030' } }), /dateHire/],
  ]
  for (const [name, body, detail] of cases) {
    const r = await h.call<Obj>('POST', `${SCIM}/users`, { body })
    t.equal(r.status, 400, name)
    t.match(r.body, { schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '400', scimType: 'invalidValue', detail })
  }
  const malformed = await h.call<Obj>('POST', `${SCIM}/users`, { body: undefined, headers: { 'content-type': 'application/scim+json' } })
  t.equal(malformed.status, 400)
  const count = [...h.sim.state.users.values()].length
  t.equal(count, 4, 'nothing was created')
})

t.test('uniqueness: 409 with the documented body; deleted users do not block', async (t) => {
  const h = await startSim(t)
  for (const userName of ['existing.agent@example.com', 'Existing.Agent@Example.com', 'inactive.agent@example.com']) {
    const r = await h.call<Obj>('POST', `${SCIM}/users`, { body: newUser(userName) })
    t.equal(r.status, 409, userName)
    t.same(r.body, USER_NAME_IN_USE)
  }
  const reuse = await h.call<Obj>('POST', `${SCIM}/users`, { body: newUser('deleted.agent@example.com') })
  t.equal(reuse.status, 201, 'a deleted user’s userName may be reused')
  t.not(reuse.body.id, SEED.users.deleted)
})

t.test('externalId is unique among non-deleted users: create, PUT and PATCH answer 409', async (t) => {
  const h = await startSim(t)
  const first = await h.call<Obj>('POST', `${SCIM}/users`, { body: newUser('ext.one@example.com', { externalId: 'hr:42' }) })
  t.equal(first.status, 201)
  const dup = await h.call<Obj>('POST', `${SCIM}/users`, { body: newUser('ext.two@example.com', { externalId: 'hr:42' }) })
  t.equal(dup.status, 409, 'a second user with the externalId is refused')
  t.match(dup.body, { status: '409', scimType: 'uniqueness', detail: /External id/ })
  const other = await h.call<Obj>('POST', `${SCIM}/users`, { body: newUser('ext.three@example.com', { externalId: 'hr:43' }) })
  const id = other.body.id as string
  t.equal((await h.call<Obj>('PUT', `${SCIM}/users/${id}`, { body: newUser('ext.three@example.com', { externalId: 'hr:42' }) })).status, 409, 'PUT cannot take it')
  const patch = { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: 'externalId', value: 'hr:42' }] }
  t.equal((await h.call<Obj>('PATCH', `${SCIM}/users/${id}`, { body: patch })).status, 409, 'nor PATCH')
  await h.call('DELETE', `${SCIM}/users/${first.body.id as string}`)
  t.equal((await h.call<Obj>('POST', `${SCIM}/users`, { body: newUser('ext.four@example.com', { externalId: 'hr:42' }) })).status, 201, "a deleted user's externalId may be reused")
})

t.test('deleted users are invisible: GET 404, not listed', async (t) => {
  const h = await startSim(t)
  const r = await h.call<Obj>('GET', `${SCIM}/users/${SEED.users.deleted}`)
  t.equal(r.status, 404)
  t.match(r.body, { schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '404' })
  t.equal((await h.call('GET', `${SCIM}/users/does-not-exist`)).status, 404)
})

t.test('PUT: replaces, bumps the version, honours If-Match', async (t) => {
  const h = await startSim(t)
  const created = await h.call<Obj>('POST', `${SCIM}/users`, { body: newUser('put@example.com', { title: 'Old', roles: [{ value: 'Agent' }] }) })
  const id = created.body.id as string
  const stale = await h.call<Obj>('PUT', `${SCIM}/users/${id}`, { body: newUser('put@example.com', { displayName: 'New' }), headers: { 'if-match': '"7"' } })
  t.equal(stale.status, 400)
  t.match(stale.body, { status: '400', scimType: 'invalidVers' })
  const ok = await h.call<Obj>('PUT', `${SCIM}/users/${id}`, { body: newUser('put@example.com', { displayName: 'New', [ENTERPRISE]: { division: 'BPO Beta' } }), headers: { 'if-match': '"1"' } })
  t.equal(ok.status, 200)
  t.equal(ok.headers.get('etag'), '"2"')
  t.match(ok.body, { displayName: 'New', meta: { version: '"2"' }, [ENTERPRISE]: { division: 'BPO Beta' } })
  t.notOk('title' in ok.body, 'attributes left out are cleared')
  t.same(ok.body.roles, [{ value: 'Agent' }], 'roles left out are kept')
  const weak = await h.call('PUT', `${SCIM}/users/${id}`, { body: newUser('put@example.com', { roles: [] }), headers: { 'if-match': 'W/"2"' } })
  t.equal(weak.status, 200, 'a weak ETag matches too')
  t.same((weak.body as Obj).roles, [], 'an explicit empty roles list removes them')
  const taken = await h.call<Obj>('PUT', `${SCIM}/users/${id}`, { body: newUser('existing.agent@example.com') })
  t.same(taken.body, USER_NAME_IN_USE)
})

t.test('PATCH: Operations with add/replace/remove, pathed and path-less', async (t) => {
  const h = await startSim(t)
  const created = await h.call<Obj>('POST', `${SCIM}/users`, {
    body: newUser('patch@example.com', { externalId: 'HR-9', title: 'T', phoneNumbers: [{ value: '+14155550100', type: 'work' }], roles: [{ value: 'Agent' }] }),
  })
  const id = created.body.id as string
  const patch = (ops: unknown[], headers: Record<string, string> = {}) =>
    h.call<Obj>('PATCH', `${SCIM}/users/${id}`, { body: { schemas: [PATCH_OP], Operations: ops }, headers })

  const r1 = await patch([
    { op: 'replace', path: 'active', value: false },
    { op: 'replace', path: `${ENTERPRISE}:department`, value: 'Billing' },
    { op: 'replace', value: { displayName: 'Pat Patch', [ENTERPRISE]: { division: 'BPO Alpha' } } },
    { op: 'add', path: 'phoneNumbers[type eq "mobile"].value', value: '+14155550199' },
    { op: 'replace', path: 'phoneNumbers[type eq "work"].value', value: '+14155550111' },
    { op: 'remove', path: 'title' },
    { op: 'add', path: 'roles', value: [{ value: 'Supervisor' }] },
    { op: 'add', path: `${GENESYS}:routingSkills`, value: [{ name: 'Billing', proficiency: 2 }] },
  ], { 'if-match': '"1"' })
  t.equal(r1.status, 200)
  t.equal(r1.headers.get('etag'), '"2"')
  t.match(r1.body, { active: false, displayName: 'Pat Patch', [ENTERPRISE]: { division: 'BPO Alpha', department: 'Billing' } })
  t.notOk('title' in r1.body)
  t.same(r1.body.phoneNumbers, [{ value: '+14155550111', type: 'work' }, { type: 'mobile', value: '+14155550199' }])
  t.same(r1.body.roles, [{ value: 'Agent' }, { value: 'Supervisor' }])
  t.same((r1.body[GENESYS] as Obj).routingSkills, [{ name: 'Billing', proficiency: 2 }])

  const r2 = await patch([{ op: 'remove', path: 'roles[value eq "Agent"]' }, { op: 'remove', path: 'externalId' }, { op: 'Replace', path: 'active', value: 'True' }])
  t.equal(r2.status, 200)
  t.same(r2.body.roles, [{ value: 'Supervisor' }])
  t.notOk('externalId' in r2.body)
  t.same((r2.body[GENESYS] as Obj).externalIds, [])
  t.equal(r2.body.active, true)

  const stale = await patch([{ op: 'replace', path: 'title', value: 'x' }], { 'if-match': '"1"' })
  t.equal(stale.status, 400)
  t.match(stale.body, { scimType: 'invalidVers', status: '400' })

  const badSkill = await patch([{ op: 'add', path: `${GENESYS}:routingLanguages`, value: [{ name: 'Elvish', proficiency: 1 }] }])
  t.equal(badSkill.status, 400)
  const groups = await patch([{ op: 'add', path: 'groups', value: [{ value: SEED.groups.sales }] }])
  t.equal(groups.status, 400, 'groups is read-only on a user')
  const badOp = await patch([{ op: 'move', path: 'title', value: 'x' }])
  t.match(badOp.body, { status: '400', scimType: 'invalidSyntax' })
  const noSchema = await h.call<Obj>('PATCH', `${SCIM}/users/${id}`, { body: { Operations: [{ op: 'replace', path: 'title', value: 'x' }] } })
  t.equal(noSchema.status, 400)
  const lowerOps = await h.call<Obj>('PATCH', `${SCIM}/users/${id}`, { body: { schemas: [PATCH_OP], operations: [{ op: 'replace', path: 'title', value: 'x' }] } })
  t.equal(lowerOps.status, 400, 'Operations has a capital O')
  t.equal(h.sim.state.users.get(id)?.version, 3, 'failed PATCHes change nothing')
})

t.test('DELETE: soft delete, If-Match, grants and memberships dropped', async (t) => {
  const h = await startSim(t)
  const stale = await h.call<Obj>('DELETE', `${SCIM}/users/${SEED.users.agent}`, { headers: { 'if-match': '"5"' } })
  t.match(stale.body, { scimType: 'invalidVers' })
  const del = await h.call('DELETE', `${SCIM}/users/${SEED.users.agent}`, { headers: { 'if-match': '"1"' } })
  t.equal(del.status, 204)
  t.equal(h.sim.state.users.get(SEED.users.agent)?.state, 'deleted')
  t.equal((await h.call('GET', `${SCIM}/users/${SEED.users.agent}`)).status, 404)
  t.equal((await h.call('DELETE', `${SCIM}/users/${SEED.users.agent}`)).status, 404)
  t.notOk(h.sim.state.groups.get(SEED.groups.support)?.memberIds.includes(SEED.users.agent))
  t.equal((await h.call('GET', `/api/v2/authorization/subjects/${SEED.users.agent}`)).status, 404)
})

t.test('the user resource reflects group membership (read-only groups)', async (t) => {
  const h = await startSim(t)
  const r = await h.call<Obj>('GET', `${SCIM}/users/${SEED.users.agent}`)
  t.same(r.body.groups, [{ value: SEED.groups.support, display: 'Support', $ref: `${h.sim.url}${SCIM}/groups/${SEED.groups.support}` }])
})

t.test('attributes and excludedAttributes', async (t) => {
  const h = await startSim(t)
  const r = await h.call<Obj>('GET', `${SCIM}/users/${SEED.users.agent}?attributes=userName,${ENTERPRISE}:division`)
  t.same(Object.keys(r.body).sort(), ['id', 'meta', 'schemas', 'userName', ENTERPRISE].sort())
  t.same(r.body[ENTERPRISE], { division: 'Home' })
  const x = await h.call<ListBody>('GET', `${SCIM}/users?excludedAttributes=groups,roles`)
  t.notOk('groups' in (x.body.Resources[0] ?? {}))
  t.ok('userName' in (x.body.Resources[0] ?? {}))
})

t.test('scimMaxCount: an oversized page answers 429', async (t) => {
  const h = await startSim(t, { scimMaxCount: 25 })
  t.equal((await h.call('GET', `${SCIM}/users?count=25`)).status, 200)
  const r = await h.call<Obj>('GET', `${SCIM}/users?count=100`)
  t.equal(r.status, 429)
  t.equal(r.body.code, 'too.many.requests.retry.after')
  t.ok(Number(r.headers.get('retry-after')) >= 1)
})
