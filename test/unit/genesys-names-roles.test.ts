import t from 'tap'
import type { NewHireBody } from '../../src/provisioning/model.js'
import { defaultSeed } from '../../src/simulator/index.js'
import { pipeline } from '../helpers/pipeline.js'

let n = 0
const hire = (over: Partial<NewHireBody> = {}): NewHireBody => {
  n++
  return { hrId: `HR-N${n}`, email: `names.${n}@example.com`, givenName: 'Name', familyName: `Case ${n}`, division: 'BPO Alpha', roles: ['Agent'], ...over }
}

t.test('HR spellings of skills, languages and groups complete with the names Genesys uses', async (t) => {
  const p = await pipeline()
  t.teardown(p.close)
  const r = await p.outcome(await p.submit(hire({ skills: [{ name: 'billing', proficiency: 3 }], languages: [{ name: 'spanish', proficiency: 4 }], groups: ['Operations/Customer Care/support'] })))
  t.equal(r.status, 'completed', JSON.stringify(r.error ?? r.issues))
  const user = p.sim.state.users.get(r.genesysUserId ?? '')
  t.same(user?.routingSkills, [{ name: 'Billing', proficiency: 3 }], 'the skill as Genesys spells it')
  t.same(user?.routingLanguages, [{ name: 'Spanish', proficiency: 4 }])
  t.ok(p.sim.state.groups.get('3a000000-0000-4000-8000-000000000002')?.memberIds.includes(r.genesysUserId ?? ''), '"support" found the group "Support"')
})

t.test('roles are checked fail-closed: policies read by id, legacy permissions counted', async (t) => {
  const seed = defaultSeed()
  seed.roles.push(
    { id: '2e000000-0000-4000-8000-0000000000a1', name: 'Legacy Cleaner', permissionPolicies: [], permissions: ['directory:user:delete'] },
    { id: '2e000000-0000-4000-8000-0000000000a2', name: 'Legacy Named', permissionPolicies: [], permissions: ['admin'] },
  )
  const p = await pipeline({ sim: { seed } })
  t.teardown(p.close)
  const issuesOf = async (roles: string[]) => {
    const r = await p.outcome(await p.submit(hire({ roles })))
    return { status: r.status, codes: (r.issues ?? []).map((i) => i.code) }
  }
  t.same(await issuesOf(['Admin']), { status: 'rejected', codes: ['role.deniedPermission'] }, 'listed without policies, refused after reading it by id')
  t.same(await issuesOf(['Legacy Cleaner']), { status: 'rejected', codes: ['role.deniedPermission'] }, 'a denied legacy permission triple')
  t.same(await issuesOf(['Legacy Named']), { status: 'rejected', codes: ['role.unverifiable'] }, 'a legacy permission name cannot be checked')
  t.same(await issuesOf(['Agent']), { status: 'completed', codes: [] }, 'a harmless role still passes')
  t.ok(p.sim.requests().some((r) => r.method === 'GET' && r.path === '/api/v2/authorization/roles/2e000000-0000-4000-8000-000000000006'), 'Admin was read by id')
})
