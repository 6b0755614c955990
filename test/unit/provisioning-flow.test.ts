import t from 'tap'
import type { NewHireBody } from '../../src/provisioning/model.js'
import { fingerprint } from '../../src/lib/canonical-json.js'
import { REQUESTS_PATH } from '../../src/provisioning/service.js'
import { CLIENT, pipeline } from '../helpers/pipeline.js'

let n = 0
const hire = (over: Partial<NewHireBody> = {}): NewHireBody => {
  n++
  return { hrId: `HR-${n}`, email: `hire.${n}@example.com`, givenName: 'New', familyName: `Hire ${n}`, division: 'BPO Alpha', roles: ['Agent'], groups: ['Operations/Customer Care/Support'], ...over }
}

t.test('happy path: user, division, roles, groups; completed with the Genesys id', async (t) => {
  const p = await pipeline()
  t.teardown(p.close)
  const h = hire({ title: 'Agent', skills: [{ name: 'Billing', proficiency: 3 }], languages: [{ name: 'English', proficiency: 5 }], phoneNumbers: [{ type: 'work', value: '+353871234567' }], startDate: '2026-12-01' })
  const id = await p.submit(h)
  const r = await p.outcome(id)
  t.equal(r.status, 'completed', JSON.stringify(r.error ?? r.issues))
  t.same(r.transitions.map((x) => x.status), ['accepted', 'validating', 'provisioning', 'completed'])
  t.same(r.steps.map((s) => `${s.name}:${s.status}`), ['createUser:done', 'grantRoles:done', 'joinGroups:done'])
  t.ok(r.genesysUserId)

  const user = [...p.sim.state.users.values()].find((u) => u.id === r.genesysUserId)
  t.ok(user, 'the user exists upstream')
  t.equal(user?.userName, h.email)
  t.equal(user?.externalId, h.hrId)
  const scim = await p.genesys.client.users.get(r.genesysUserId ?? '')
  t.equal(scim.resource['urn:ietf:params:scim:schemas:extension:enterprise:2.0:User']?.division, 'BPO Alpha')
  const grants = await p.genesys.client.grants.ofSubject(r.genesysUserId ?? '')
  t.ok(grants.grants?.some((g) => g.role.name === 'Agent' && g.division.name === 'BPO Alpha'), 'Agent granted in BPO Alpha')
  const support = await p.genesys.client.groups.findByDisplayName('Support')
  t.ok(support?.members?.some((m) => m.value === r.genesysUserId), 'member of the Support group')
  t.equal(p.terminal.length, 1, 'the terminal hook fired once')
})

t.test('a hire refused for another reason still lists a taken email: the lookup a first attempt skips is made then', async (t) => {
  const p = await pipeline()
  t.teardown(p.close)
  const r = await p.outcome(await p.submit(hire({ email: 'existing.agent@example.com', roles: ['Astronaut'] })))
  t.equal(r.status, 'rejected')
  t.same(r.issues?.map((i) => i.code).sort(), ['email.taken', 'role.notFound'])
  t.same(p.writes(), [], 'nothing sent: the other issue stopped it before any create')
})

t.test('every upstream rule rejects with its code and writes nothing', async (t) => {
  const p = await pipeline()
  t.teardown(p.close)
  const cases: Array<[string, Partial<NewHireBody>]> = [
    ['email.taken', { email: 'existing.agent@example.com' }],
    ['email.taken', { email: 'inactive.agent@example.com' }],
    ['division.notFound', { division: 'Nowhere' }],
    ['role.notFound', { roles: ['Astronaut'] }],
    ['role.deniedPermission', { roles: ['Master Admin'] }],
    ['role.deniedPermission', { roles: ['Admin'] }],
    ['group.notFound', { groups: ['Operations/Unknown Team'] }],
    ['manager.notFound', { managerHrId: 'HR-NOBODY' }],
    ['skill.notFound', { skills: [{ name: 'Juggling', proficiency: 2 }] }],
    ['language.notFound', { languages: [{ name: 'Klingon', proficiency: 2 }] }],
  ]
  for (const [code, over] of cases) {
    const r = await p.outcome(await p.submit(hire(over)))
    t.equal(r.status, 'rejected', code)
    t.same(r.issues?.map((i) => i.code), [code], `${code}: ${JSON.stringify(over)}`)
  }
  t.same(p.writes().filter((w) => w.status < 400), [], 'nothing was written')
  // A taken email is found by the create itself: Genesys refuses it atomically (409), then the holder is looked up.
  t.same(p.writes().map((w) => `${w.method} ${w.path} ${w.status}`), ['POST /api/v2/scim/v2/users 409', 'POST /api/v2/scim/v2/users 409'], 'the only writes sent were the two refused creates')
})

t.test('a deleted user does not block the address, and a manager is linked by HR id', async (t) => {
  const p = await pipeline()
  t.teardown(p.close)
  const existing = [...p.sim.state.users.values()].find((u) => u.userName === 'existing.agent@example.com')
  const r = await p.outcome(await p.submit(hire({ email: 'deleted.agent@example.com', managerHrId: existing?.externalId ?? '' })))
  t.equal(r.status, 'completed', JSON.stringify(r.issues ?? r.error))
  const scim = await p.genesys.client.users.get(r.genesysUserId ?? '')
  t.equal(scim.resource['urn:ietf:params:scim:schemas:extension:enterprise:2.0:User']?.manager?.value, existing?.id)
})

t.test('lost response on create: one user, request completed', async (t) => {
  const p = await pipeline()
  t.teardown(p.close)
  p.sim.setFaults({ dropAfterWrite: 1, match: '^POST .*/scim/v2/users$' })
  const h = hire()
  const id = await p.submit(h)
  // The first create is applied and its answer lost; later ones are not dropped.
  const deadline = Date.now() + 10_000
  while (!p.sim.requests().some((r) => r.method === 'POST' && r.path.endsWith('/users')) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10))
  p.sim.setFaults({ dropAfterWrite: 0 })
  const r = await p.outcome(id)
  t.equal(r.status, 'completed', JSON.stringify(r.error))
  t.equal([...p.sim.state.users.values()].filter((u) => u.externalId === h.hrId && u.state !== 'deleted').length, 1, 'exactly one user upstream')
  t.equal(r.steps[0]?.detail.adopted, true, 'the retry adopted the user the lost call created')
})

t.test('lost response while new users are invisible to filters: still one user', async (t) => {
  const p = await pipeline({ sim: { faults: { consistencyDelayMs: 1500 } } })
  t.teardown(p.close)
  p.sim.setFaults({ dropAfterWrite: 1, match: '^POST .*/scim/v2/users$' })
  const h = hire({ groups: [] })
  const id = await p.submit(h)
  const deadline = Date.now() + 10_000
  while (!p.sim.requests().some((r) => r.method === 'POST' && r.path.endsWith('/users')) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10))
  p.sim.setFaults({ dropAfterWrite: 0 })
  const r = await p.outcome(id, 30)
  t.equal(r.status, 'completed', JSON.stringify(r.error))
  t.equal([...p.sim.state.users.values()].filter((u) => u.externalId === h.hrId && u.state !== 'deleted').length, 1)
})

t.test('two requests, one email, different HR ids: one completes, the other is rejected email.taken', async (t) => {
  const p = await pipeline()
  t.teardown(p.close)
  const [a, b] = await Promise.all([
    p.submit(hire({ hrId: 'TWIN-A', email: 'twin@example.com' })),
    p.submit(hire({ hrId: 'TWIN-B', email: 'twin@example.com' })),
  ])
  const outcomes = await Promise.all([p.outcome(a), p.outcome(b)])
  t.same(outcomes.map((r) => r.status).sort(), ['completed', 'rejected'])
  t.same(outcomes.find((r) => r.status === 'rejected')?.issues?.map((i) => i.code), ['email.taken'])
  t.equal([...p.sim.state.users.values()].filter((u) => u.userName === 'twin@example.com' && u.state !== 'deleted').length, 1)
})

t.test('dry run: reads only, the plan, and the issues a real run reaches', async (t) => {
  const p = await pipeline()
  t.teardown(p.close)
  const good = await p.dryRun(hire())
  t.equal(good.valid, true)
  t.equal(good.plan.scimUser.userName, `hire.${n}@example.com`)
  t.notOk('password' in good.plan.scimUser)
  t.equal(good.plan.grants[0]?.roleName, 'Agent')
  t.equal(good.plan.grants[0]?.divisionName, 'BPO Alpha')
  t.equal(good.plan.groups[0]?.groupName, 'Support')

  const bad = hire({ roles: ['Master Admin'], division: 'Nowhere' })
  const dry = await p.dryRun(bad)
  t.equal(dry.valid, false)
  t.same(p.writes(), [], 'the dry runs wrote nothing')
  const real = await p.outcome(await p.submit(bad))
  t.same(dry.issues.map((i) => i.code).sort(), (real.issues ?? []).map((i) => i.code).sort(), 'same issues as the real run')
})

t.test('a dry run past its Genesys call cap answers 422 PROV_ERR_TOO_COSTLY and sends nothing more; one within it, and a real run, are untouched', async (t) => {
  const p = await pipeline({ dryRunMaxCalls: 10 })
  t.teardown(p.close)
  const calls = () => p.sim.requests().filter((r) => r.path !== '/oauth/token').length
  const before = calls()
  const costly = hire({ roles: Array.from({ length: 40 }, (_, i) => `Role ${i}`), groups: Array.from({ length: 30 }, (_, i) => `Ops/Team ${i}`) })
  const err = await p.dryRun(costly).then(() => undefined, (e: unknown) => e)
  t.match(err, { code: 'PROV_ERR_TOO_COSTLY', status: 422 })
  t.match((err as Error).message, /more than 10 Genesys lookups/)
  // Calls already sent when the cap was reached may still be answering: let them land.
  await new Promise((resolve) => setTimeout(resolve, 300))
  t.equal(calls() - before, 10, 'exactly the cap went out, nothing past it')
  t.equal((await p.dryRun(hire())).valid, true, 'a dry run within the cap answers as before')
  const real = await p.outcome(await p.submit(hire({ roles: ['Agent', 'Supervisor'] })))
  t.equal(real.status, 'completed', 'real runs are not capped by the dry-run allowance')
})

t.test('transient upstream failures are retried; exhausted attempts fail with the Genesys code', async (t) => {
  const p = await pipeline({ maxAttempts: 3 })
  t.teardown(p.close)
  p.sim.setFaults({ rate5xx: 1, match: '^POST /api/v2/authorization/roles/' })
  const r = await p.outcome(await p.submit(hire()))
  t.equal(r.status, 'failed')
  t.equal(r.error?.genesysCode, 'service.unavailable')
  t.ok(r.error?.correlationId)
  t.equal(r.attempts, 3)
  t.same(r.steps.map((s) => s.name), ['createUser'], 'the finished step is in the ledger')

  p.sim.setFaults({ rate5xx: 0 })
  const retried = await p.service.retry({ id: 'hris-a', name: 'HRIS A', scopes: ['provisioning:write'], divisions: '*' }, r.id)
  t.equal(retried.status, 'provisioning')
  const done = await p.outcome(r.id)
  t.equal(done.status, 'completed', JSON.stringify(done.error))
  t.equal([...p.sim.state.users.values()].filter((u) => u.externalId === r.hrId && u.state !== 'deleted').length, 1, 'the retry did not create again')
})

t.test('an Idempotency-Key replay says what the first call came to, also for an answer kept without its outcome by an earlier version', async (t) => {
  const p = await pipeline()
  t.teardown(p.close)
  const h = hire()
  const first = await p.service.accept(CLIENT, h, 'key-now')
  const again = await p.service.accept(CLIENT, h, 'key-now')
  t.match(first.outcome, { kind: 'accepted', change: 'hire', requestId: /^prq_/ })
  t.same(again.outcome, first.outcome, 'the replay comes to what the first call came to')
  t.ok(again.replayed)
  t.same(again.response.body, first.response.body, 'and is answered as first answered')

  // Answers kept before outcomes were kept with them: status, headers and body only.
  const earlier = async (key: string, body: NewHireBody, answer: { status: number, headers: Record<string, string>, body: unknown }) => {
    const print = fingerprint('POST', REQUESTS_PATH, body)
    t.equal((await p.idempotency.begin(CLIENT.id, key, print, 60)).state, 'new')
    await p.idempotency.complete(CLIENT.id, key, print, answer, 3600)
    return p.service.accept(CLIENT, body, key)
  }
  const accepted = await earlier('key-earlier', hire(), { status: 202, headers: { location: `${REQUESTS_PATH}/prq_01JD3W6Q4Z7Y8X9V0T1S2R3Q4P` }, body: { id: 'prq_01JD3W6Q4Z7Y8X9V0T1S2R3Q4P', kind: 'move', status: 'accepted' } })
  t.same(accepted.outcome, { kind: 'accepted', requestId: 'prq_01JD3W6Q4Z7Y8X9V0T1S2R3Q4P', change: 'move' })
  const issues = [{ code: 'division.notAllowed', path: '/division', message: 'not allowed' }]
  const refused = await earlier('key-refused', hire(), { status: 422, headers: {}, body: { code: 'PROV_ERR_POLICY', status: 422, issues } })
  t.same(refused.outcome, { kind: 'refused', issues })
  const unchanged = await earlier('key-unchanged', hire(), { status: 200, headers: {}, body: { hrId: 'HR-x', status: 'active' } })
  t.same(unchanged.outcome, { kind: 'unchanged' })
})
