import t from 'tap'
import type { NewHireBody } from '../../src/provisioning/model.js'
import { DEFAULT_DENIED_PERMISSIONS, deniedPermissionsOf, parsePermission, type PermissionPattern } from '../../src/provisioning/checks/permissions.js'
import { isCalendarDate, normalizeEmail, staticChecks } from '../../src/provisioning/checks/static-checks.js'
import { buildPlan, upstreamIssues, type UpstreamFacts } from '../../src/provisioning/checks/upstream-checks.js'

const denied = DEFAULT_DENIED_PERMISSIONS.map((p) => parsePermission(p) as PermissionPattern)
const hire = (over: Partial<NewHireBody> = {}): NewHireBody => ({ hrId: 'E1', email: 'ada@example.com', givenName: 'Ada', familyName: 'Lovelace', division: 'BPO Alpha', ...over })
const anyClient = { client: { divisions: '*' as const }, maxGroupDepth: 3 }
const codes = (issues: Array<{ code: string, path: string }>) => issues.map((i) => `${i.code}@${i.path}`)

t.test('parsePermission accepts triples with wildcards only', async (t) => {
  t.same(parsePermission('directory:user:delete'), { domain: 'directory', entity: 'user', action: 'delete' })
  t.same(parsePermission(' oauth:client:* '), { domain: 'oauth', entity: 'client', action: '*' })
  for (const bad of ['directory:user', 'a:b:c:d', 'a::c', 'a:b c:d', '']) t.equal(parsePermission(bad), undefined, bad)
})

t.test('a role is denied when any policy meets any denied pattern', async (t) => {
  const table: Array<[string, Array<{ domain: string, entityName: string, actionSet: string[] }>, string[]]> = [
    ['agent role', [{ domain: 'conversation', entityName: 'call', actionSet: ['accept', 'view'] }, { domain: 'routing', entityName: 'queue', actionSet: ['view'] }], []],
    ['role viewer is fine', [{ domain: 'authorization', entityName: 'role', actionSet: ['view'] }], []],
    ['role editor', [{ domain: 'authorization', entityName: 'role', actionSet: ['view', 'edit'] }], ['authorization:role:edit']],
    ['wildcard entity', [{ domain: 'directory', entityName: '*', actionSet: ['*'] }], ['directory:organization:admin', 'directory:organization:edit', 'directory:user:delete']],
    ['wildcard action on oauth', [{ domain: 'oauth', entityName: 'client', actionSet: ['view'] }], ['oauth:client:*']],
    ['case-insensitive', [{ domain: 'Directory', entityName: 'User', actionSet: ['Delete'] }], ['directory:user:delete']],
  ]
  for (const [name, policies, expected] of table) t.same(deniedPermissionsOf(policies, denied), expected, name)
})

t.test('email normalisation and calendar dates', async (t) => {
  t.equal(normalizeEmail('  Ada.L@Example.COM '), 'Ada.L@example.com', 'domain lower-cased, local part kept')
  t.ok(isCalendarDate('2024-02-29'))
  t.notOk(isCalendarDate('2025-02-29'))
  t.notOk(isCalendarDate('2025-13-01'))
})

t.test('static checks: each rule with its issue code and path', async (t) => {
  const table: Array<[string, Partial<NewHireBody>, typeof anyClient | { client: { divisions: string[], roles?: string[] }, maxGroupDepth: number }, string[]]> = [
    ['valid', {}, anyClient, []],
    ['bad email', { email: 'not-an-email' }, anyClient, ['email.invalid@/email']],
    ['division not allowed', { division: 'BPO Beta' }, { client: { divisions: ['BPO Alpha'] }, maxGroupDepth: 3 }, ['division.notAllowed@/division']],
    ['division missing for a restricted client', { division: undefined }, { client: { divisions: ['BPO Alpha'] }, maxGroupDepth: 3 }, ['division.notAllowed@/division']],
    ['division compare ignores case', { division: 'bpo alpha' }, { client: { divisions: ['BPO Alpha'] }, maxGroupDepth: 3 }, []],
    ['role not allowed', { roles: ['Agent', 'Supervisor'] }, { client: { divisions: ['BPO Alpha'], roles: ['Agent'] }, maxGroupDepth: 3 }, ['role.notAllowed@/roles/1']],
    ['duplicate role', { roles: ['Agent', 'agent'] }, anyClient, ['list.duplicate@/roles/1']],
    ['group too deep', { groups: ['A/B/C/D'] }, anyClient, ['group.tooDeep@/groups/0']],
    ['group at max depth', { groups: ['A/B/C'] }, anyClient, []],
    ['empty segment', { groups: ['A//C'] }, anyClient, ['group.pathInvalid@/groups/0']],
    ['duplicate group after trimming', { groups: ['A/B', ' A / B '] }, anyClient, ['list.duplicate@/groups/1']],
    ['phone not E.164', { phoneNumbers: [{ type: 'work', value: '0871234567' }] }, anyClient, ['phone.invalid@/phoneNumbers/0/value']],
    ['bad date', { startDate: '2026-02-30' }, anyClient, ['date.invalid@/startDate']],
    ['own manager', { managerHrId: 'E1' }, anyClient, ['manager.self@/managerHrId']],
    ['no name', { givenName: undefined, familyName: undefined }, anyClient, ['name.missing@/displayName']],
    ['duplicate skill', { skills: [{ name: 'Billing', proficiency: 3 }, { name: 'Billing', proficiency: 1 }] }, anyClient, ['list.duplicate@/skills/1']],
  ]
  for (const [name, over, ctx, expected] of table) {
    t.same(codes(staticChecks(hire(over), ctx).issues), expected, name)
  }
  const all = staticChecks(hire({ email: 'x', startDate: '2026-13-01', groups: ['A/B/C/D'] }), anyClient)
  t.equal(all.issues.length, 3, 'every issue is reported, not just the first')
  t.same(staticChecks(hire({ email: ' ada@EXAMPLE.com', groups: [' Ops / Care '] }), anyClient).normalized.groups, ['Ops/Care'])
})

function facts (over: Partial<UpstreamFacts> = {}): UpstreamFacts {
  return {
    ownership: { clientId: 'hris-a', externalId: 'hris-a:E1', divisionIds: ['div-a'] },
    candidates: [],
    division: { name: 'BPO Alpha', requested: true, found: { id: 'div-a', name: 'BPO Alpha' } },
    roles: [{ name: 'Agent', found: { id: 'role-agent', name: 'Agent', permissionPolicies: [{ domain: 'conversation', entityName: 'call', actionSet: ['*'] }] } }],
    groups: [{ path: 'Ops/Care/Tier 1', groupName: 'Tier 1', found: { id: 'grp-1', name: 'Tier 1' } }],
    skills: [],
    languages: [],
    ...over,
  }
}

t.test('upstream checks: each rule with its issue code', async (t) => {
  const h = hire({ roles: ['Agent'], groups: ['Ops/Care/Tier 1'] })
  const table: Array<[string, Partial<UpstreamFacts>, string[]]> = [
    ['all good', {}, []],
    ['email owned by another user', { candidates: [{ id: 'u-9', userName: 'ada@example.com', externalId: 'hris-a:OTHER', active: true, divisionId: 'div-a' }] }, ['email.taken@/email']],
    ['email owned by this hire (interrupted run)', { candidates: [{ id: 'u-1', userName: 'ada@example.com', externalId: 'hris-a:E1', active: true, divisionId: 'div-a' }] }, []],
    ['HR id on a user in another division', { candidates: [{ id: 'u-2', userName: 'ada@example.com', externalId: 'hris-a:E1', active: true, divisionId: 'div-b' }] }, ['hrId.taken@/hrId']],
    ['HR id on a user with another email', { candidates: [{ id: 'u-3', userName: 'someone@example.com', externalId: 'hris-a:E1', active: true, divisionId: 'div-a' }] }, ['hrId.taken@/hrId']],
    ['bare HR id of another client', { candidates: [{ id: 'u-4', userName: 'ada@example.com', externalId: 'E1', active: true, divisionId: 'div-a' }] }, ['email.taken@/email']],
    ['user the registry gives to another client', { candidates: [{ id: 'u-5', userName: 'ada@example.com', externalId: 'hris-a:E1', active: true, divisionId: 'div-a', owner: { clientId: 'hris-b', hrId: 'E1' } }] }, ['hrId.taken@/hrId']],
    ['inactive own user (a rehire)', { candidates: [{ id: 'u-6', userName: 'ada@example.com', externalId: 'hris-a:E1', active: false, divisionId: 'div-a' }] }, []],
    ['email reserved in flight', { emailReservedBy: 'prq_other' }, ['email.taken@/email']],
    ['externalId reserved in flight', { externalIdReservedBy: 'prq_other' }, ['hrId.taken@/hrId']],
    ['division outside the client (by id)', { division: { name: 'bpo alpha', requested: true, found: { id: 'div-x', name: 'BPO X' } } }, ['division.notAllowed@/division']],
    ['division missing', { division: { name: 'Nowhere', requested: true } }, ['division.notFound@/division']],
    ['role missing', { roles: [{ name: 'Agent' }] }, ['role.notFound@/roles/0']],
    ['role too powerful', { roles: [{ name: 'Agent', found: { id: 'r', name: 'Agent', permissionPolicies: [{ domain: 'authorization', entityName: '*', actionSet: ['*'] }] } }] }, ['role.deniedPermission@/roles/0']],
    ['group missing', { groups: [{ path: 'Ops/Care/Tier 1', groupName: 'Tier 1' }] }, ['group.notFound@/groups/0']],
    ['manager missing', { manager: { hrId: 'M1' } }, ['manager.notFound@/managerHrId']],
    ['skill and language missing', { skills: [{ name: 'Billing' }], languages: [{ name: 'Klingon' }] }, ['skill.notFound@/skills/0/name', 'language.notFound@/languages/0/name']],
    ['role whose policies Genesys did not give', { roles: [{ name: 'Agent', found: { id: 'r', name: 'Agent' } }] }, ['role.unverifiable@/roles/0']],
    ['role with no policies at all is fine', { roles: [{ name: 'Agent', found: { id: 'r', name: 'Agent', permissionPolicies: [], permissions: [] } }] }, []],
    ['legacy permission triple on the deny list', { roles: [{ name: 'Agent', found: { id: 'r', name: 'Agent', permissionPolicies: [], permissions: ['directory:user:delete'] } }] }, ['role.deniedPermission@/roles/0']],
    ['legacy permission name that cannot be checked', { roles: [{ name: 'Agent', found: { id: 'r', name: 'Agent', permissionPolicies: [], permissions: ['admin'] } }] }, ['role.unverifiable@/roles/0']],
  ]
  for (const [name, over, expected] of table) t.same(codes(upstreamIssues(h, facts(over), { denied })), expected, name)
})

t.test('the plan: SCIM body without roles or password, grants in the division, groups', async (t) => {
  const h = hire({ roles: ['Agent'], groups: ['Ops/Care/Tier 1'], title: 'Agent', department: 'Ops', startDate: '2026-12-01', managerHrId: 'M1', phoneNumbers: [{ type: 'work', value: '+353871234567' }], skills: [{ name: 'Billing', proficiency: 3 }] })
  const plan = buildPlan(h, facts({ manager: { hrId: 'M1', found: { id: 'u-mgr' } } }))
  t.equal(plan.scimUser.userName, 'ada@example.com')
  t.equal(plan.scimUser.displayName, 'Ada Lovelace')
  t.equal(plan.scimUser.externalId, 'hris-a:E1', "the client's namespace + HR id")
  t.notOk('roles' in plan.scimUser, 'roles go through grants, in the division')
  t.notOk('password' in plan.scimUser)
  t.same(plan.scimUser.enterprise, { division: 'BPO Alpha', department: 'Ops', manager: { value: 'u-mgr' }, dateHire: '2026-12-01' })
  t.same(plan.scimUser.genesys, { routingSkills: [{ name: 'Billing', proficiency: 3 }] })
  const lower = buildPlan(hire({ skills: [{ name: 'billing', proficiency: 2 }], languages: [{ name: 'spanish', proficiency: 4 }] }),
    facts({ skills: [{ name: 'billing', found: { id: 'sk-1', name: 'Billing' } }], languages: [{ name: 'spanish', found: { id: 'la-1', name: 'Spanish' } }] }))
  t.same(lower.scimUser.genesys, { routingSkills: [{ name: 'Billing', proficiency: 2 }], routingLanguages: [{ name: 'Spanish', proficiency: 4 }] }, 'the canonical names Genesys listed, not the HR spelling')
  t.same(plan.grants, [{ roleId: 'role-agent', roleName: 'Agent', divisionId: 'div-a', divisionName: 'BPO Alpha' }])
  t.same(plan.groups, [{ hrPath: 'Ops/Care/Tier 1', groupId: 'grp-1', groupName: 'Tier 1' }])
})
