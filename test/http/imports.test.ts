import t, { type Test } from 'tap'
import { sha256Hex } from '../../src/config/clients.js'
import { serveTenants } from '../helpers/tenants.js'

/**
 * Onboarding an org that already has users, through the real service (memory
 * stores) and the simulator over HTTP: a plan writes nothing and counts
 * exactly; apply registers the matches without creating them, creates the
 * missing, and leaves conflicts alone.
 */
t.setTimeout(120_000)

const KEY = 'gpk_imports_alpha_0123456789abcdefghijklmnopq'
const KEY_OTHER = 'gpk_imports_other_0123456789abcdefghijklmnopq'

async function seeded (t: Test) {
  const s = await serveTenants(t, () => [
    { id: 'hris-a', name: 'A', keySha256: sha256Hex(KEY), scopes: ['provisioning:write', 'provisioning:read'], divisions: ['BPO Alpha'] },
    { id: 'hris-b', name: 'B', keySha256: sha256Hex(KEY_OTHER), scopes: ['provisioning:read'], divisions: ['BPO Beta'] },
  ])
  const users = s.genesys.client.users
  const make = async (userName: string, division: string, externalId?: string) => (await users.create({ userName, displayName: userName, ...(externalId !== undefined ? { externalId } : {}), enterprise: { division } })).resource.id
  const ids: Record<string, string> = {}
  // 50 carry this client's externalId form, 34 only the email.
  for (let i = 0; i < 50; i++) ids[`x${i}`] = await make(`x${i}@example.com`, 'BPO Alpha', `hris-a:X${i}`)
  for (let i = 0; i < 34; i++) ids[`m${i}`] = await make(`m${i}@example.com`, 'BPO Alpha')
  // Five conflicts: two emails whose user carries another HR id, two emails held outside the client's
  // divisions, one record with two candidates (its HR id on one user, its email on another).
  ids.o0 = await make('o0@example.com', 'BPO Alpha', 'legacy:9000')
  ids.o1 = await make('o1@example.com', 'BPO Alpha', 'legacy:9001')
  ids.b0 = await make('b0@example.com', 'BPO Beta')
  ids.b1 = await make('b1@example.com', 'BPO Beta')
  ids.a0 = await make('a0.old@example.com', 'BPO Alpha', 'hris-a:A0')
  ids.a1 = await make('a0@example.com', 'BPO Alpha')
  // Six users of the division no record names, four of another division.
  for (let i = 0; i < 6; i++) ids[`u${i}`] = await make(`u${i}@example.com`, 'BPO Alpha')
  for (let i = 0; i < 4; i++) ids[`v${i}`] = await make(`v${i}@example.com`, 'BPO Beta')
  const person = (hrId: string, email: string) => ({ hrId, email, givenName: 'Known', familyName: hrId, division: 'BPO Alpha', roles: ['Agent'] })
  const roster = [
    ...Array.from({ length: 50 }, (_, i) => person(`X${i}`, `x${i}@example.com`)),
    ...Array.from({ length: 34 }, (_, i) => person(`M${i}`, `m${i}@example.com`)),
    person('O0', 'o0@example.com'), person('O1', 'o1@example.com'), person('B0', 'b0@example.com'), person('B1', 'b1@example.com'), person('A0', 'a0@example.com'),
    ...Array.from({ length: 20 }, (_, i) => person(`N${i}`, `n${i}@example.com`)),
  ]
  return { ...s, ids, roster }
}

/** Posts an import and waits (bounded) for its job to finish; the finished import. */
async function imported (s: { call: (key: string, method: string, path: string, body?: unknown) => Promise<{ status: number, body: Record<string, unknown> }> }, key: string, body: unknown) {
  const posted = await s.call(key, 'POST', '/v1/imports', body)
  if (posted.status !== 202) return posted
  for (let i = 0; i < 600; i++) {
    const got = await s.call(key, 'GET', `/v1/imports/${String(posted.body.id)}`)
    if (got.body.status !== 'running') return got
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error('the import did not finish')
}

type Row = { index: number, hrId?: string, outcome: string, matchedBy?: string, genesysUserId?: string, conflict?: { code: string }, differences?: { rolesToAdd?: string[] }, registered?: boolean, change?: string, requestId?: string }

t.test('an org with 100 users: plan writes nothing and counts exactly; apply registers the 84 matches without creating them, creates the 20 missing, leaves the 5 conflicts alone', async (t) => {
  const s = await seeded(t)
  const before = s.writes().length
  const posted = await s.call(KEY, 'POST', '/v1/imports', { mode: 'plan', workers: s.roster })
  t.equal(posted.status, 202, JSON.stringify(posted.body).slice(0, 400))
  t.match(posted.body, { status: 'running', rows: [] }, 'answered at once; the matching runs as a job')
  const plan = await imported(s, KEY, { mode: 'plan', workers: s.roster })
  t.equal(plan.body.status, 'completed')
  t.same(plan.body.counts, { matched: 84, create: 20, conflict: 5, invalid: 0, unmanaged: 10 })
  t.equal(s.writes().length, before, 'a plan writes nothing')
  const rows = plan.body.rows as Row[]
  t.same([...new Set(rows.slice(0, 50).map((r) => r.matchedBy))], ['externalId'])
  t.same([...new Set(rows.slice(50, 84).map((r) => r.matchedBy))], ['email'])
  t.same(rows.slice(0, 84).map((r) => r.genesysUserId), [...Array.from({ length: 50 }, (_, i) => s.ids[`x${i}`]), ...Array.from({ length: 34 }, (_, i) => s.ids[`m${i}`])])
  t.same(rows.slice(0, 84).every((r) => r.differences?.rolesToAdd?.[0] === 'Agent'), true, 'differences: the role none of them holds')
  t.same(rows.slice(84, 89).map((r) => r.conflict?.code), ['email.otherHrId', 'email.otherHrId', 'email.outsideDivisions', 'email.outsideDivisions', 'candidates.ambiguous'])
  t.notMatch(JSON.stringify(rows.slice(84, 89)), /[0-9a-f]{8}-[0-9a-f]{4}-/, 'a conflict names no Genesys user')
  t.same([...new Set(rows.slice(89).map((r) => r.outcome))], ['create'])
  const unmanaged = (plan.body.unmanaged as Array<{ genesysUserId: string }>).map((u) => u.genesysUserId).sort()
  t.same(unmanaged, [s.ids.o0, s.ids.o1, s.ids.a0, s.ids.a1, ...Array.from({ length: 6 }, (_, i) => s.ids[`u${i}`])].sort(), 'unmanaged: the division\'s users no record matched, and none of another division')

  const csv = await fetch(`${s.url}/v1/imports/${String(plan.body.id)}`, { headers: { authorization: `Bearer ${KEY}`, accept: 'text/csv' } })
  t.match(csv.headers.get('content-type'), /^text\/csv/)
  const lines = (await csv.text()).trim().split('\r\n')
  t.equal(lines.length, 1 + 109 + 10, 'a header, one line per record, one per unmanaged user')
  t.match(lines[0], /^"index","hrId","email","outcome"/)
  t.equal((await s.call(KEY_OTHER, 'GET', `/v1/imports/${String(plan.body.id)}`)).status, 404, 'another client cannot read it')

  const creates = () => s.writes().filter((w) => w.method === 'POST' && w.path.endsWith('/scim/v2/users')).length
  const conflictUsers = [s.ids.o0, s.ids.o1, s.ids.b0, s.ids.b1, s.ids.a0, s.ids.a1] as string[]
  const createdBefore = creates()
  const applied = await imported(s, KEY, { mode: 'apply', workers: s.roster })
  t.equal(applied.body.status, 'completed')
  t.same(applied.body.counts, { matched: 84, create: 20, conflict: 5, invalid: 0, unmanaged: 10 })
  const arows = applied.body.rows as Row[]
  t.ok(arows.slice(0, 84).every((r) => r.registered === true && r.change === 'update'), 'matches registered; their differences become updates')
  t.ok(arows.slice(89).every((r) => r.change === 'hire'), 'missing users become hires')
  t.ok(arows.slice(84, 89).every((r) => r.change === undefined && r.requestId === undefined), 'conflicts: nothing sent')
  for (const r of arows.filter((x) => x.requestId !== undefined)) {
    for (let i = 0; i < 300; i++) {
      const got = await s.call(KEY, 'GET', `/v1/provisioning-requests/${r.requestId ?? ''}`)
      if (['completed', 'rejected', 'failed'].includes(String(got.body.status))) {
        t.equal(got.body.status, 'completed', `${r.hrId} ${r.change}`)
        break
      }
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }
  t.equal(creates() - createdBefore, 20, 'a user created for each missing record, none for the matches')
  const worker = await s.call(KEY, 'GET', '/v1/workers/M3')
  t.equal(worker.body.genesysUserId, s.ids.m3, 'an email match is managed as this client\'s worker')
  t.same(s.writes().filter((w) => conflictUsers.some((id) => w.path.includes(id))), [], 'no write touched a conflict\'s users')
  t.equal((await s.genesys.client.grants.ofSubject(s.ids.x7 ?? '')).grants?.length, 1, 'the role the roster names was granted')
  const again = await imported(s, KEY, { mode: 'apply', workers: s.roster })
  t.same(again.body.counts, { matched: 104, create: 0, conflict: 5, invalid: 0, unmanaged: 10 }, 'applying again: everything matched through the registry')
  t.ok((again.body.rows as Row[]).filter((r) => r.outcome === 'matched').every((r) => r.change === 'none'), 'and nothing to change')
})

t.test('an email match of a user carrying a bare or foreign HR id is a conflict unless the client allows bare HR ids', async (t) => {
  const s = await serveTenants(t, () => [{ id: 'hris-a', name: 'A', keySha256: sha256Hex(KEY), scopes: ['provisioning:write', 'provisioning:read'], divisions: ['BPO Alpha'] }])
  await s.genesys.client.users.create({ userName: 'bare.two@example.com', displayName: 'Bare Two', externalId: 'E88', enterprise: { division: 'BPO Alpha' } })
  await s.genesys.client.users.create({ userName: 'foreign@example.com', displayName: 'Foreign', externalId: 'legacy:X1', enterprise: { division: 'BPO Alpha' } })
  const plan = await imported(s, KEY, { mode: 'apply', workers: [{ hrId: 'E88', email: 'bare.two@example.com', givenName: 'Bare', familyName: 'Two', division: 'BPO Alpha' }, { hrId: 'legacy:X1', email: 'foreign@example.com', givenName: 'For', familyName: 'Eign', division: 'BPO Alpha' }] })
  t.match(plan.body.rows, [{ outcome: 'conflict', conflict: { code: 'email.otherHrId' } }, { outcome: 'conflict', conflict: { code: 'email.otherHrId' } }])
  t.notOk((plan.body.rows as Row[]).some((r) => r.registered), 'nothing registered')
})

t.test('a client that allows it matches bare HR ids; a roster record that is not valid is reported on its own', async (t) => {
  const s = await serveTenants(t, () => [
    { id: 'migrating', name: 'M', keySha256: sha256Hex(KEY), scopes: ['admin'], divisions: ['BPO Alpha'], matchBareHrIds: true },
    { id: 'reader', name: 'R', keySha256: sha256Hex(KEY_OTHER), scopes: ['provisioning:read'], divisions: ['BPO Alpha'] },
  ])
  const bare = (await s.genesys.client.users.create({ userName: 'bare.one@example.com', displayName: 'Bare One', externalId: 'E77', enterprise: { division: 'BPO Alpha' } })).resource.id
  const plan = await imported(s, KEY, { mode: 'plan', workers: [{ hrId: 'E77', email: 'bare.one@example.com', givenName: 'Bare', familyName: 'One', division: 'BPO Alpha' }, { hrId: 'E78', givenName: 'No', familyName: 'Email' }] })
  t.equal(plan.status, 200, 'scope admin may import')
  t.match(plan.body.rows, [{ outcome: 'matched', matchedBy: 'bareHrId', genesysUserId: bare }, { outcome: 'invalid', issues: [{ code: 'schema.required', path: '/workers/1/email' }] }])
  t.equal((await s.call(KEY, 'GET', `/v1/imports/${String(plan.body.id)}`)).status, 200, 'scope admin reads its import')
  const refused = await s.call(KEY_OTHER, 'POST', '/v1/imports', { mode: 'plan', workers: [{ hrId: 'E1', email: 'e1@example.com', givenName: 'E', familyName: 'One' }] })
  t.equal(refused.status, 403, 'neither admin nor provisioning:write: refused')
  t.match(refused.body.detail, /lacks the "admin" or "provisioning:write" scope/)
})
