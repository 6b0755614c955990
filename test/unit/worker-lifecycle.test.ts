import t from 'tap'
import type { NewHireBody, WorkerDesired } from '../../src/provisioning/model.js'
import type { AcceptResult } from '../../src/provisioning/service.js'
import { CLIENT, pipeline } from '../helpers/pipeline.js'

let n = 0
const hire = (over: Partial<NewHireBody> = {}): NewHireBody => {
  n++
  return { hrId: `LC-${n}`, email: `leaver.${n}@example.com`, givenName: 'Lea', familyName: `Ver ${n}`, division: 'BPO Alpha', roles: ['Agent'], groups: ['Operations/Customer Care/Support'], ...over }
}
const put = (h: NewHireBody, over: Partial<WorkerDesired> = {}): { method: 'PUT', body: WorkerDesired } => {
  const { hrId: _ignored, ...fields } = h
  return { method: 'PUT', body: { ...fields, ...over } }
}
const idOf = (a: AcceptResult) => (a.response.body as { id: string }).id

t.test('a leaver: deactivated first, out of every group the service added, grants kept; the webhook says what changed', async (t) => {
  const p = await pipeline()
  t.teardown(p.close)
  const h = hire()
  const hired = await p.outcome(await p.submit(h))
  t.equal(hired.status, 'completed', JSON.stringify(hired.error ?? hired.issues))
  const userId = hired.genesysUserId ?? ''
  const support = await p.genesys.client.groups.findByDisplayName('Support')
  // Memberships the service did not make: another user in its group, and this user in a group an admin added it to.
  const sales = await p.genesys.client.groups.findByDisplayName('Sales')
  const colleague = [...p.sim.state.users.values()].find((u) => u.state === 'active' && u.id !== userId)?.id ?? ''
  await p.genesys.client.groups.patchMembers(support?.id ?? '', { add: [colleague] }, (await p.genesys.client.groups.get(support?.id ?? '')).version)
  await p.genesys.client.groups.patchMembers(sales?.id ?? '', { add: [userId] }, (await p.genesys.client.groups.get(sales?.id ?? '')).version)
  const othersBefore = ((await p.genesys.client.groups.get(support?.id ?? '')).resource.members ?? []).map((m) => m.value).filter((id) => id !== userId)
  t.ok(othersBefore.includes(colleague))
  const worker = await p.service.worker(CLIENT, h.hrId)
  t.same(worker.desired?.email, h.email, 'the registry records the desired state')

  const writesBefore = p.writes().length
  const accepted = await p.service.desire(CLIENT, h.hrId, { method: 'PATCH', body: { status: 'terminated' } })
  t.equal(accepted.response.status, 202)
  t.match(accepted.response.body, { kind: 'terminate', status: 'accepted', genesysUserId: userId })
  const done = await p.outcome(idOf(accepted))
  t.equal(done.status, 'completed', JSON.stringify(done.error ?? done.issues))
  t.same(done.steps.map((s) => `${s.name}:${s.status}`), ['deactivate:done', 'leaveGroups:done'])

  const writes = p.writes().slice(writesBefore).map((w) => `${w.method} ${w.path}`)
  t.same(writes, [`PATCH /api/v2/scim/v2/users/${userId}`, `PATCH /api/v2/scim/v2/groups/${support?.id ?? ''}`], 'one deactivation, then one group removal: nothing else written')
  const user = await p.genesys.client.users.get(userId)
  t.equal(user.resource.active, false, 'the user is inactive in Genesys')
  const after = await p.genesys.client.groups.findByDisplayName('Support')
  t.notOk(after?.members?.some((m) => m.value === userId), 'out of the group')
  t.same((after?.members ?? []).map((m) => m.value), othersBefore, "the group's other members are kept")
  const salesAfter = await p.genesys.client.groups.get(sales?.id ?? '')
  t.ok(salesAfter.resource.members?.some((m) => m.value === userId), 'a membership the service did not make is kept')
  const grants = await p.genesys.client.grants.ofSubject(userId)
  t.ok(grants.grants?.some((g) => g.role.name === 'Agent'), 'role grants are kept for a rehire')

  const entry = await p.service.worker(CLIENT, h.hrId)
  t.match(entry, { active: false, groups: [], lastRequestId: done.id })
  t.equal(entry.grants.length, 1)
  t.ok(entry.deactivatedAt, 'the registry records when Genesys confirmed it')
  t.equal(done.steps[0]?.detail.deactivatedAt, entry.deactivatedAt)

  const again = await p.service.desire(CLIENT, h.hrId, { method: 'PATCH', body: { status: 'terminated' } })
  t.equal(again.response.status, 200, 'terminating a terminated worker changes nothing')
  t.match(again.response.body, { status: 'terminated', hrId: h.hrId })
  t.equal(p.writes().length, writesBefore + 2, 'and writes nothing')
})

t.test('a rehire: the same user reactivated, its groups joined again; the same state twice is no change', async (t) => {
  const p = await pipeline()
  t.teardown(p.close)
  const h = hire()
  const hired = await p.outcome(await p.submit(h))
  const userId = hired.genesysUserId ?? ''
  await p.outcome(idOf(await p.service.desire(CLIENT, h.hrId, { method: 'PUT', body: put(h, { status: 'terminated' }).body })))
  const rehire = await p.service.desire(CLIENT, h.hrId, { method: 'PATCH', body: { status: 'active' } })
  t.match(rehire.response.body, { kind: 'rehire' })
  const done = await p.outcome(idOf(rehire))
  t.equal(done.status, 'completed', JSON.stringify(done.error ?? done.issues))
  t.equal(done.genesysUserId, userId, 'the same Genesys user')
  t.match(done.steps.find((s) => s.name === 'createUser')?.detail, { userId, adopted: true, reactivated: true })
  t.equal((await p.genesys.client.users.get(userId)).resource.active, true)
  const support = await p.genesys.client.groups.findByDisplayName('Support')
  t.ok(support?.members?.some((m) => m.value === userId), 'back in its group')
  t.match(await p.service.worker(CLIENT, h.hrId), { active: true, groups: [support?.id] })

  const same = await p.service.desire(CLIENT, h.hrId, put(h))
  t.equal(same.response.status, 200, 'PUT of the recorded state: no change')
  const created = p.terminal.find((r) => r.id === done.id)
  t.equal(created?.kind, 'rehire')
})

t.test('a rehire of a user deleted in Genesys creates a new one (kind hire, with a note)', async (t) => {
  const p = await pipeline()
  t.teardown(p.close)
  const h = hire()
  const hired = await p.outcome(await p.submit(h))
  await p.outcome(idOf(await p.service.desire(CLIENT, h.hrId, { method: 'PATCH', body: { status: 'terminated' } })))
  await p.genesys.client.users.remove(hired.genesysUserId ?? '')
  const done = await p.outcome(idOf(await p.service.desire(CLIENT, h.hrId, { method: 'PATCH', body: { status: 'active' } })))
  t.equal(done.status, 'completed', JSON.stringify(done.error ?? done.issues))
  t.equal(done.kind, 'hire')
  t.not(done.genesysUserId, hired.genesysUserId)
  t.match(done.notes, [/no longer exists; a new user was created/])
})

t.test('what is refused, and writes nothing', async (t) => {
  const p = await pipeline()
  t.teardown(p.close)
  const h = hire()
  await p.outcome(await p.submit(h))
  const writes = p.writes().length
  const status = (x: Promise<unknown>) => x.then(() => 0, (err: { status?: number, issues?: Array<{ code: string }> }) => `${err.status ?? '?'} ${err.issues?.map((i) => i.code).join(',') ?? ''}`.trim())
  t.equal(await status(p.service.desire(CLIENT, h.hrId, { method: 'PATCH', body: { status: 'terminated', effectiveAt: '2099-02-30' } })), '422 effectiveAt.invalid', 'an effective date that does not exist')
  t.equal(await status(p.service.desire(CLIENT, h.hrId, { method: 'PATCH', body: { status: 'terminated', effectiveAt: '2099-01-04T09:00:00' } })), '422 effectiveAt.invalid', 'a date-time without an offset is ambiguous')

  t.equal(await status(p.service.desire(CLIENT, 'NOBODY', { method: 'PATCH', body: { status: 'terminated' } })), '404', 'PATCH of a worker the client does not manage')
  t.equal(await status(p.service.desire(CLIENT, 'NOBODY', put(hire({ hrId: 'NOBODY' }), { status: 'terminated' }))), '404', 'PUT terminated of an unknown worker')
  const other = { ...CLIENT, id: 'hris-b' }
  t.equal(await status(p.service.desire(other, h.hrId, { method: 'PATCH', body: { status: 'terminated' } })), '404', "another client cannot terminate this client's worker")
  t.equal(await status(p.service.worker(other, h.hrId)), '404', 'nor read it')
  t.equal(p.writes().length, writes, 'nothing was written upstream')

  const denied = await p.outcome(idOf(await p.service.desire(CLIENT, h.hrId, { method: 'PATCH', body: { roles: ['Master Admin'] } })))
  t.equal(denied.kind, 'update', 'an update is accepted at intake')
  t.same(denied.issues?.map((i) => i.code), ['role.deniedPermission'], 'and checked against Genesys like a hire: a denied role is rejected')
  t.equal(p.writes().length, writes, 'nothing was written for it')
  const past = await p.service.desire(CLIENT, h.hrId, { method: 'PATCH', body: { status: 'terminated', effectiveAt: '2026-01-01T00:00:00Z' } })
  t.equal(past.response.status, 202, 'an effective time in the past runs at once')
  const busy = await status(p.service.desire(CLIENT, h.hrId, { method: 'PATCH', body: { status: 'active' } }))
  t.equal(busy, '409', 'a rehire while the termination is in progress waits its turn (never interleaved)')
  t.equal((await p.outcome(idOf(past))).status, 'completed')
})

t.test('a PUT of a worker the service does not manage is a hire', async (t) => {
  const p = await pipeline()
  t.teardown(p.close)
  const h = hire()
  const accepted = await p.service.desire(CLIENT, h.hrId, put(h))
  t.match(accepted.response.body, { kind: 'hire', hrId: h.hrId })
  const done = await p.outcome(idOf(accepted))
  t.equal(done.status, 'completed', JSON.stringify(done.error ?? done.issues))
  const page = await p.service.workers(CLIENT, { limit: 10 })
  t.same(page.items.map((e) => e.hrId), [h.hrId])
  t.same((await p.service.workers(CLIENT, { limit: 10, status: 'terminated' })).items, [])
})

t.test('an update: one SCIM PATCH of what changed; roles and groups as additions and removals of what the service granted', async (t) => {
  const p = await pipeline()
  t.teardown(p.close)
  const h = hire({ title: 'Agent', groups: ['Operations/Customer Care/Support', 'Operations/Customer Care/Billing'] })
  const hired = await p.outcome(await p.submit(h))
  t.equal(hired.status, 'completed', JSON.stringify(hired.error ?? hired.issues))
  const userId = hired.genesysUserId ?? ''
  const writesBefore = p.writes().length
  const title = await p.outcome(idOf(await p.service.desire(CLIENT, h.hrId, { method: 'PATCH', body: { title: 'Team Lead' } })))
  t.equal(title.status, 'completed', JSON.stringify(title.error ?? title.issues))
  t.equal(title.kind, 'update')
  t.same(title.steps.map((s) => `${s.name}:${s.status}`), ['updateUser:done', 'grantRoles:skipped', 'revokeRoles:skipped', 'joinGroups:skipped', 'leaveGroups:skipped'])
  t.same(title.steps[0]?.detail.changed, ['title'])
  t.same(p.writes().slice(writesBefore).map((w) => `${w.method} ${w.path}`), [`PATCH /api/v2/scim/v2/users/${userId}`], 'one write: the PATCH of the title')
  t.equal((await p.genesys.client.users.get(userId)).resource.title, 'Team Lead')

  // A grant the service did not make stays whatever the desired roles say.
  const home = await p.genesys.client.divisions.home()
  const employee = await p.genesys.client.roles.byName('Employee')
  await p.genesys.client.grants.bulkAdd(userId, [{ roleId: employee?.id ?? '', divisionId: home.id }])
  const roles = await p.outcome(idOf(await p.service.desire(CLIENT, h.hrId, { method: 'PATCH', body: { roles: ['Team Lead'], groups: ['Operations/Customer Care/Support'] } })))
  t.equal(roles.status, 'completed', JSON.stringify(roles.error ?? roles.issues))
  t.same(roles.steps.map((s) => `${s.name}:${s.status}`), ['updateUser:skipped', 'grantRoles:done', 'revokeRoles:done', 'joinGroups:skipped', 'leaveGroups:done'])
  const grants = (await p.genesys.client.grants.ofSubject(userId)).grants ?? []
  t.same(grants.map((g) => g.role.name).sort(), ['Employee', 'Team Lead'], 'Agent revoked, Team Lead granted, the foreign Employee grant kept')
  const billing = await p.genesys.client.groups.findByDisplayName('Billing')
  const support = await p.genesys.client.groups.findByDisplayName('Support')
  t.notOk(billing?.members?.some((m) => m.value === userId), 'out of the group no longer desired')
  t.ok(support?.members?.some((m) => m.value === userId), 'still in the one desired')
  const entry = await p.service.worker(CLIENT, h.hrId)
  t.same(entry.groups, [support?.id])
  t.equal(entry.grants.length, 1)
  t.same(entry.desired?.roles, ['Team Lead'], 'the registry records the new desired state')
})

t.test('a move: the division by name, roles granted in the new division before the old ones are removed', async (t) => {
  const p = await pipeline()
  t.teardown(p.close)
  const h = hire({ groups: [] })
  const hired = await p.outcome(await p.submit(h))
  const userId = hired.genesysUserId ?? ''
  // A grant the user inherits from a group an administrator put it in: not the service's to touch.
  const sales = await p.genesys.client.groups.findByDisplayName('Sales')
  const teamLead = await p.genesys.client.roles.byName('Team Lead')
  const alpha = await p.genesys.client.divisions.byName('BPO Alpha')
  await p.genesys.client.grants.bulkAdd(sales?.id ?? '', [{ roleId: teamLead?.id ?? '', divisionId: alpha?.id ?? '' }])
  await p.genesys.client.groups.patchMembers(sales?.id ?? '', { add: [userId] })
  const writesBefore = p.writes().length
  const accepted = await p.service.desire(CLIENT, h.hrId, { method: 'PATCH', body: { division: 'BPO Beta' } })
  t.match(accepted.response.body, { kind: 'move' })
  const moved = await p.outcome(idOf(accepted))
  t.equal(moved.status, 'completed', JSON.stringify(moved.error ?? moved.issues))
  t.match(moved.steps[0]?.detail, { changed: ['division'], divisionBefore: 'BPO Alpha', divisionAfter: 'BPO Beta' })
  const scim = await p.genesys.client.users.get(userId)
  t.equal(scim.resource['urn:ietf:params:scim:schemas:extension:enterprise:2.0:User']?.division, 'BPO Beta')
  const grants = (await p.genesys.client.grants.ofSubject(userId)).grants ?? []
  t.same(grants.filter((g) => g.subjectId === userId).map((g) => `${g.role.name}@${g.division.name}`), ['Agent@BPO Beta'], 'its direct grants: only in the new division')
  t.same(grants.filter((g) => g.subjectId !== userId).map((g) => `${g.role.name}@${g.division.name}`), ['Team Lead@BPO Alpha'], 'the grant inherited from its group is untouched')
  const writes = p.writes().slice(writesBefore).map((w) => `${w.method} ${w.path.replace(userId, 'U').replace(/divisions\/[^/]+\/roles\/[^/]+/, 'divisions/D/roles/R').replace(/^\/api\/v2\/authorization\/roles\/[^/]+$/, '/api/v2/authorization/roles/R')}`)
  t.same(writes, ['PATCH /api/v2/scim/v2/users/U', 'POST /api/v2/authorization/roles/R', 'DELETE /api/v2/authorization/subjects/U/divisions/D/roles/R'], 'never SCIM PUT or roles: PATCH, grant (the role to the user, in the new division), then remove the old grant')
  t.match(await p.service.worker(CLIENT, h.hrId), { divisionName: 'BPO Beta' })
  const [event] = p.terminal.slice(-1)
  t.equal(event?.kind, 'move')
})

t.test('the mass-change brake: terminations and moves past 10 % of the managed workers within an hour wait, held, for a confirm', async (t) => {
  const p = await pipeline({ brake: { percent: 10, count: 25 } })
  t.teardown(p.close)
  const staff = Array.from({ length: 12 }, () => hire({ groups: [] }))
  for (const h of staff) t.equal((await p.outcome(await p.submit(h))).status, 'completed')
  // 12 managed workers: 10 % is 1.2, so 2 changes an hour go through and the third is held.
  const first = await p.outcome(idOf(await p.service.desire(CLIENT, staff[0]?.hrId ?? '', { method: 'PATCH', body: { status: 'terminated' } })))
  const second = await p.outcome(idOf(await p.service.desire(CLIENT, staff[1]?.hrId ?? '', { method: 'PATCH', body: { division: 'BPO Beta' } })))
  t.same([first.status, second.status], ['completed', 'completed'])
  const writes = p.writes().length
  const third = await p.service.desire(CLIENT, staff[2]?.hrId ?? '', { method: 'PATCH', body: { status: 'terminated' } })
  t.match(third.response.body, { kind: 'terminate', status: 'held' })
  const fourth = await p.service.desire(CLIENT, staff[3]?.hrId ?? '', { method: 'PATCH', body: { division: 'BPO Beta' } })
  t.match(fourth.response.body, { kind: 'move', status: 'held' })
  const update = await p.outcome(idOf(await p.service.desire(CLIENT, staff[4]?.hrId ?? '', { method: 'PATCH', body: { title: 'Team Lead' } })))
  t.equal(update.status, 'completed', 'an update is no mass change: it is not held')
  t.same(p.held.map((r) => r.id), [idOf(third), idOf(fourth)], 'each held request is reported (metric and alert log)')
  await new Promise((resolve) => setTimeout(resolve, 200))
  t.equal((await p.requests.get(idOf(third)))?.status, 'held', 'a held request does not run')
  t.equal(p.writes().length, writes + 1, 'and writes nothing upstream (the one write is the update)')
  t.equal((await p.genesys.client.users.get((await p.service.worker(CLIENT, staff[2]?.hrId ?? '')).genesysUserId)).resource.active, true, 'the worker is still active')

  const released = await p.service.confirm(idOf(third))
  t.equal(released.status, 'accepted')
  t.equal((await p.outcome(idOf(third))).status, 'completed', 'a confirmed termination runs')
  await t.rejects(p.service.confirm(idOf(third)), { name: 'ProvisioningError', message: /Only held requests can be confirmed/ }, 'only a held request can be confirmed')
  const bulk = await p.service.confirmHeld(CLIENT.id, 10)
  t.same(bulk, { confirmed: [idOf(fourth)], more: false }, 'the bulk confirm releases the rest')
  t.equal((await p.outcome(idOf(fourth))).status, 'completed')

  const fifth = await p.service.desire(CLIENT, staff[5]?.hrId ?? '', { method: 'PATCH', body: { status: 'terminated' } })
  t.match(fifth.response.body, { status: 'held' })
  await t.rejects(p.service.cancel({ ...CLIENT, id: 'hris-b' }, idOf(fifth)), { message: /No provisioning request/ }, "another client cannot cancel it")
  t.match(await p.service.cancel(CLIENT, idOf(fifth)), { status: 'cancelled' }, 'its client withdraws it')
  await t.rejects(p.service.cancel(CLIENT, idOf(fifth)), { message: /Only a request that has not started/ }, 'once')
  await t.rejects(p.service.cancel(CLIENT, first.id), { message: /is completed/ }, 'a request that ran cannot be cancelled')
  t.equal((await p.genesys.client.users.get((await p.service.worker(CLIENT, staff[5]?.hrId ?? '')).genesysUserId)).resource.active, true, 'the cancelled termination did nothing')
  const again = await p.service.desire(CLIENT, staff[5]?.hrId ?? '', { method: 'PATCH', body: { title: 'Still here' } })
  t.equal(again.response.status, 202, 'the worker is free for another change')
})

t.test("a worker in a division the client no longer has is not its to change: terminate and update refused, nothing written", async (t) => {
  const alphaOnly = { ...CLIENT, divisions: ['BPO Alpha'] }
  const p = await pipeline({ client: alphaOnly })
  t.teardown(p.close)
  const h = hire({ groups: [] })
  const hired = await p.outcome(await p.submit(h))
  t.equal(hired.status, 'completed', JSON.stringify(hired.error ?? hired.issues))
  // The worker sits in BPO Beta now (moved there by another means): outside this client's divisions.
  const entry = await p.service.worker(alphaOnly, h.hrId)
  const beta = await p.genesys.client.divisions.byName('BPO Beta')
  await p.registry.put({ ...entry, divisionId: beta?.id ?? '', divisionName: 'BPO Beta' })
  const writes = p.writes().length
  const leaver = await p.outcome(idOf(await p.service.desire(alphaOnly, h.hrId, { method: 'PATCH', body: { status: 'terminated' } })))
  t.equal(leaver.status, 'rejected')
  t.same(leaver.issues?.map((i) => i.code), ['division.notAllowed'])
  const update = await p.outcome(idOf(await p.service.desire(alphaOnly, h.hrId, { method: 'PATCH', body: { title: 'Team Lead' } })))
  t.equal(update.status, 'rejected')
  t.same(update.issues?.map((i) => i.code), ['division.notAllowed'])
  t.equal(p.writes().length, writes, 'no write to Genesys for either')
  t.equal((await p.genesys.client.users.get(entry.genesysUserId)).resource.active, true)
})
