import t from 'tap'
import { filterQuery, newUser, SCIM, SEED, startSim } from '../helpers/simulator.js'

type Obj = Record<string, unknown>
interface Page<T = Obj> { entities: T[], pageSize: number, pageNumber: number, total: number, pageCount: number }

t.test('roles: list, name filter, paging; permissionPolicies only when read by id', async (t) => {
  const h = await startSim(t)
  const all = await h.call<Page>('GET', '/api/v2/authorization/roles')
  t.equal(all.status, 200)
  t.match(all.body, { pageSize: 25, pageNumber: 1, total: 6, pageCount: 1 })
  const byName = await h.call<Page>('GET', '/api/v2/authorization/roles?name=master%20admin')
  t.same(byName.body.entities.map((r) => r.id), [SEED.roles.masterAdmin])
  const role = byName.body.entities[0] ?? {}
  t.match(role, { name: 'Master Admin', permissions: [], base: true, default: false, selfUri: `/api/v2/authorization/roles/${SEED.roles.masterAdmin}` })
  t.notOk('permissionPolicies' in role, 'a listed role omits its policies (optional in the models)')
  t.ok(all.body.entities.every((r) => !('permissionPolicies' in r)), 'on every listed role')
  const full = await h.call<Obj>('GET', `/api/v2/authorization/roles/${SEED.roles.masterAdmin}`)
  t.match(full.body.permissionPolicies, [{ domain: 'authorization', entityName: '*', actionSet: ['*'] }, { domain: 'directory', entityName: '*', actionSet: ['*'] }])
  const paged = await h.call<Page>('GET', '/api/v2/authorization/roles?pageSize=4&pageNumber=2')
  t.match(paged.body, { pageSize: 4, pageNumber: 2, total: 6, pageCount: 2 })
  t.equal(paged.body.entities.length, 2)
  t.equal((await h.call('GET', '/api/v2/authorization/roles?pageSize=101')).status, 400)

  const one = await h.call<Obj>('GET', `/api/v2/authorization/roles/${SEED.roles.agent}`)
  t.match(one.body, { id: SEED.roles.agent, name: 'Agent', userCount: 2 })
  t.ok((one.body.permissionPolicies as Obj[]).some((p) => p.domain === 'routing' && p.entityName === 'agent'))
  const missing = await h.call<Obj>('GET', '/api/v2/authorization/roles/nope')
  t.equal(missing.status, 404)
  t.match(missing.body, { code: 'not.found', status: 404, details: [], errors: [] })
})

t.test('a user\'s grants include those inherited from its groups, marked with the group as subjectId', async (t) => {
  const h = await startSim(t)
  const u = await h.call<Obj>('POST', `${SCIM}/users`, { body: newUser('inherits@example.com') })
  const id = u.body.id as string
  t.equal((await h.call('POST', `/api/v2/authorization/subjects/${id}/bulkadd`, { body: { grants: [{ roleId: SEED.roles.agent, divisionId: SEED.bpoAlpha }] }, contentType: 'application/json' })).status, 204)
  t.equal((await h.call('POST', `/api/v2/authorization/subjects/${SEED.groups.sales}/bulkadd`, { body: { grants: [{ roleId: SEED.roles.supervisor, divisionId: SEED.bpoBeta }] }, contentType: 'application/json' })).status, 204, 'a group can hold grants')
  const before = await h.call<{ grants: Obj[] }>('GET', `/api/v2/authorization/subjects/${id}`)
  t.equal(before.body.grants.length, 1, 'not a member yet: only its own grant')
  h.sim.state.groups.get(SEED.groups.sales)?.memberIds.push(id)
  const after = await h.call<{ grants: Array<{ subjectId: string, role: Obj }> }>('GET', `/api/v2/authorization/subjects/${id}`)
  t.same(after.body.grants.map((g) => [g.subjectId === id ? 'direct' : g.subjectId, g.role.name]), [['direct', 'Agent'], [SEED.groups.sales, 'Supervisor']])
  const group = await h.call<{ grants: Obj[] }>('GET', `/api/v2/authorization/subjects/${SEED.groups.sales}`)
  t.equal(group.body.grants.length, 1, 'a group\'s own answer holds its own grants')
})

t.test('bulk role grant: one role to many users in every listed division, all checked before any is made', async (t) => {
  const h = await startSim(t)
  const ids = await Promise.all(['bulk.one@example.com', 'bulk.two@example.com'].map(async (email) => (await h.call<Obj>('POST', `${SCIM}/users`, { body: newUser(email) })).body.id as string))
  const path = `/api/v2/authorization/roles/${SEED.roles.agent}?subjectType=PC_USER`
  const granted = await h.call('POST', path, { body: { subjectIds: ids, divisionIds: [SEED.bpoAlpha, SEED.home] }, contentType: 'application/json' })
  t.equal(granted.status, 204)
  t.equal(granted.text, '', 'no response body')
  for (const id of ids) {
    const s = await h.call<{ grants: Array<{ role: Obj, division: Obj }> }>('GET', `/api/v2/authorization/subjects/${id}`)
    t.same(s.body.grants.map((g) => `${String(g.role.name)}@${String(g.division.name)}`).sort(), ['Agent@BPO Alpha', 'Agent@Home'])
  }
  t.equal((await h.call('POST', path, { body: { subjectIds: ids, divisionIds: [SEED.bpoAlpha] }, contentType: 'application/json' })).status, 204, 'granting twice is harmless')

  const before = (await h.call<{ grants: Obj[] }>('GET', `/api/v2/authorization/subjects/${ids[0] ?? ''}`)).body.grants.length
  t.equal((await h.call('POST', path, { body: { subjectIds: [ids[0], 'nobody'], divisionIds: [SEED.bpoBeta] }, contentType: 'application/json' })).status, 404, 'an unknown subject')
  t.equal((await h.call('POST', path, { body: { subjectIds: ids, divisionIds: ['nope'] }, contentType: 'application/json' })).status, 400, 'an unknown division')
  t.equal((await h.call('POST', path, { body: { subjectIds: ids }, contentType: 'application/json' })).status, 400, 'divisionIds missing')
  t.equal((await h.call('POST', `/api/v2/authorization/roles/${SEED.roles.agent}?subjectType=PC_OAUTH_CLIENT`, { body: { subjectIds: ids, divisionIds: [SEED.home] }, contentType: 'application/json' })).status, 400)
  t.equal((await h.call('POST', '/api/v2/authorization/roles/nope?subjectType=PC_USER', { body: { subjectIds: ids, divisionIds: [SEED.home] }, contentType: 'application/json' })).status, 404, 'an unknown role')
  t.equal((await h.call<{ grants: Obj[] }>('GET', `/api/v2/authorization/subjects/${ids[0] ?? ''}`)).body.grants.length, before, 'refused calls granted nothing, not even to the subjects that exist')
})

t.test('divisions: list, name filter, home, by id', async (t) => {
  const h = await startSim(t)
  const all = await h.call<Page>('GET', '/api/v2/authorization/divisions')
  t.same(all.body.entities.map((d) => d.name), ['Home', 'BPO Alpha', 'BPO Beta'])
  const alpha = await h.call<Page>('GET', '/api/v2/authorization/divisions?name=BPO%20Alpha')
  t.same(alpha.body.entities, [{ id: SEED.bpoAlpha, name: 'BPO Alpha', description: 'Outsourced tier-1 support (Alpha Contact Centres)', homeDivision: false, selfUri: `/api/v2/authorization/divisions/${SEED.bpoAlpha}` }])
  const home = await h.call<Obj>('GET', '/api/v2/authorization/divisions/home')
  t.match(home.body, { id: SEED.home, name: 'Home', homeDivision: true })
  t.equal((await h.call('GET', `/api/v2/authorization/divisions/${SEED.bpoBeta}`)).status, 200)
  t.equal((await h.call('GET', '/api/v2/authorization/divisions/nope')).status, 404)
})

t.test('grants: bulkadd, single grant, subject view', async (t) => {
  const h = await startSim(t)
  const u = await h.call<Obj>('POST', `${SCIM}/users`, { body: newUser('granted@example.com') })
  const id = u.body.id as string
  const bulk = await h.call('POST', `/api/v2/authorization/subjects/${id}/bulkadd`, {
    body: { grants: [{ roleId: SEED.roles.agent, divisionId: SEED.bpoAlpha }, { roleId: SEED.roles.employee, divisionId: SEED.home }] },
    contentType: 'application/json',
  })
  t.equal(bulk.status, 204)
  t.equal(bulk.text, '')
  const again = await h.call('POST', `/api/v2/authorization/subjects/${id}/bulkadd`, { body: { grants: [{ roleId: SEED.roles.agent, divisionId: SEED.bpoAlpha }] }, contentType: 'application/json' })
  t.equal(again.status, 204, 'granting twice is harmless')
  const single = await h.call('POST', `/api/v2/authorization/subjects/${id}/divisions/${SEED.bpoBeta}/roles/${SEED.roles.supervisor}?subjectType=PC_USER`)
  t.equal(single.status, 204)

  const s = await h.call<{ id: string, name: string, grants: Obj[] }>('GET', `/api/v2/authorization/subjects/${id}`)
  t.equal(s.status, 200)
  t.match(s.body, { id, name: 'granted' })
  t.equal(s.body.grants.length, 3)
  t.match(s.body.grants[0], { subjectId: id, division: { id: SEED.bpoAlpha, name: 'BPO Alpha' }, role: { id: SEED.roles.agent, name: 'Agent' }, grantMadeAt: String })
  const user = await h.call<Obj>('GET', `${SCIM}/users/${id}`)
  t.same(user.body.roles, [{ value: 'Agent' }, { value: 'Employee' }, { value: 'Supervisor' }], 'SCIM roles follow grants')

  const badRole = await h.call<Obj>('POST', `/api/v2/authorization/subjects/${id}/bulkadd`, { body: { grants: [{ roleId: 'nope', divisionId: SEED.home }] }, contentType: 'application/json' })
  t.equal(badRole.status, 400)
  t.equal(badRole.body.code, 'bad.request')
  const badDivision = await h.call<Obj>('POST', `/api/v2/authorization/subjects/${id}/bulkadd`, { body: { grants: [{ roleId: SEED.roles.agent, divisionId: 'nope' }] }, contentType: 'application/json' })
  t.equal(badDivision.status, 400)
  const badBody = await h.call<Obj>('POST', `/api/v2/authorization/subjects/${id}/bulkadd`, { body: { roleId: SEED.roles.agent }, contentType: 'application/json' })
  t.equal(badBody.status, 400)
  const noUser = await h.call<Obj>('POST', '/api/v2/authorization/subjects/nope/bulkadd', { body: { grants: [] }, contentType: 'application/json' })
  t.equal(noUser.status, 404)
  t.equal(noUser.body.code, 'not.found')
  t.equal((await h.call('POST', `/api/v2/authorization/subjects/${id}/divisions/nope/roles/${SEED.roles.agent}`)).status, 404)
  t.equal((await h.call('GET', '/api/v2/authorization/subjects/nope')).status, 404)
  t.equal(s.body.grants.length, 3, 'failed calls granted nothing')
})

t.test('official groups: create, get, visible through SCIM, 409 on a duplicate name', async (t) => {
  const h = await startSim(t)
  const created = await h.call<Obj>('POST', '/api/v2/groups', { body: { name: 'Escalations', type: 'official', rulesVisible: true, visibility: 'public' }, contentType: 'application/json' })
  t.equal(created.status, 200, 'POST /api/v2/groups answers 200, as the swagger says')
  const id = created.body.id as string
  t.same(Object.keys(created.body).sort(), ['dateModified', 'id', 'memberCount', 'name', 'rulesVisible', 'selfUri', 'state', 'type', 'version', 'visibility'])
  t.match(created.body, { name: 'Escalations', type: 'official', visibility: 'public', rulesVisible: true, state: 'active', version: 1, memberCount: 0, selfUri: `/api/v2/groups/${id}` })
  const got = await h.call<Obj>('GET', `/api/v2/groups/${id}`)
  t.same(got.body, created.body)
  const scim = await h.call<{ Resources: Obj[] }>('GET', `${SCIM}/groups?${filterQuery('displayName eq "Escalations"')}`)
  t.same(scim.body.Resources.map((g) => g.id), [id])
  const dup = await h.call<Obj>('POST', '/api/v2/groups', { body: { name: 'escalations', type: 'official', rulesVisible: true, visibility: 'public' }, contentType: 'application/json' })
  t.equal(dup.status, 409)
  t.equal(dup.body.code, 'general.conflict')
  t.equal((await h.call('POST', '/api/v2/groups', { body: { type: 'official' }, contentType: 'application/json' })).status, 400)
  t.equal((await h.call('GET', '/api/v2/groups/nope')).status, 404)

  const members = await h.call('POST', `/api/v2/groups/${id}/members`, { body: { memberIds: [SEED.users.agent], version: 1 }, contentType: 'application/json' })
  t.equal(members.status, 202)
  const stale = await h.call<Obj>('POST', `/api/v2/groups/${id}/members`, { body: { memberIds: [SEED.users.agent], version: 1 }, contentType: 'application/json' })
  t.equal(stale.status, 409)
  t.match((await h.call<Obj>('GET', `/api/v2/groups/${id}`)).body, { memberCount: 1, version: 2 })
})

t.test('queues: list with name filter, get, PUT replacing memberGroups', async (t) => {
  const h = await startSim(t)
  const list = await h.call<Page>('GET', '/api/v2/routing/queues?name=Support')
  t.equal(list.body.total, 1)
  const q = list.body.entities[0] ?? {}
  t.match(q, { id: SEED.queues.support, name: 'Support', division: { id: SEED.bpoAlpha, name: 'BPO Alpha' }, memberCount: 2 })
  t.same((q.memberGroups as Obj[]).map((g) => [g.id, g.type]), [[SEED.groups.support, 'GROUP'], [SEED.groups.tier2, 'GROUP']])
  const page = await h.call<Page>('GET', '/api/v2/routing/queues?pageSize=2&pageNumber=2')
  t.match(page.body, { total: 3, pageCount: 2, pageNumber: 2 })

  const current = await h.call<Obj>('GET', `/api/v2/routing/queues/${SEED.queues.billing}`)
  t.equal(current.status, 200)
  const { division: _division, ...writable } = current.body
  const put = await h.call<Obj>('PUT', `/api/v2/routing/queues/${SEED.queues.billing}`, {
    body: { ...writable, memberGroups: [{ id: SEED.groups.billing, type: 'GROUP' }], acwSettings: { wrapupPrompt: 'MANDATORY' } },
    contentType: 'application/json',
  })
  t.equal(put.status, 200)
  t.same((put.body.memberGroups as Obj[]).map((g) => g.id), [SEED.groups.billing])
  t.same(put.body.acwSettings, { wrapupPrompt: 'MANDATORY' }, 'other attributes are kept as sent')
  t.same(h.sim.state.queues.get(SEED.queues.billing)?.memberGroups, [{ id: SEED.groups.billing, type: 'GROUP' }])

  const unknown = await h.call<Obj>('PUT', `/api/v2/routing/queues/${SEED.queues.billing}`, { body: { name: 'Billing', memberGroups: [{ id: 'nope', type: 'GROUP' }] }, contentType: 'application/json' })
  t.equal(unknown.status, 400)
  t.equal(unknown.body.code, 'bad.request')
  const noName = await h.call('PUT', `/api/v2/routing/queues/${SEED.queues.billing}`, { body: { memberGroups: [] }, contentType: 'application/json' })
  t.equal(noName.status, 400)
  const partial = await h.call<Obj>('PUT', `/api/v2/routing/queues/${SEED.queues.billing}`, { body: { name: 'Billing' }, contentType: 'application/json' })
  t.same(partial.body.memberGroups, [], 'PUT replaces: memberGroups left out are removed')
  t.equal((await h.call('GET', '/api/v2/routing/queues/nope')).status, 404)
})

t.test('skills and languages: name is a prefix filter', async (t) => {
  const h = await startSim(t)
  const skills = await h.call<Page>('GET', '/api/v2/routing/skills?name=Spa')
  t.same(skills.body.entities.map((s) => s.name), ['Spanish Support'])
  t.match(skills.body.entities[0], { id: String, state: 'active' })
  const all = await h.call<Page>('GET', '/api/v2/routing/skills')
  t.equal(all.body.total, 4)
  const langs = await h.call<Page>('GET', '/api/v2/routing/languages?name=Fr')
  t.same(langs.body.entities.map((l) => l.name), ['French'])
  t.equal((await h.call<Page>('GET', '/api/v2/routing/languages')).body.total, 3)
  t.equal((await h.call('GET', '/api/v2/routing/languages/nope')).status, 404)
})
