import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { sha256Hex } from '../../src/config/clients.js'
import { serveEmbedded } from '../helpers/embedded.js'
import { simAndClient, simulatorEnv } from '../helpers/genesys.js'
import { startReceiver, verifyWith } from '../helpers/receiver.js'

/**
 * Two BPO tenants in one Genesys org, through the real service (memory stores)
 * talking to the simulator over HTTP. Each reproduction of a cross-tenant
 * takeover ends in a refusal or a clean, separate outcome, and no write by
 * tenant A touches a user or group of tenant B.
 */
t.setTimeout(120_000)

const KEY_A = 'gpk_isolation_alpha_0123456789abcdefghijklmno'
const KEY_B = 'gpk_isolation_beta_0123456789abcdefghijklmnop'
const SECRET = 'whsec_' + Buffer.from('isolation test webhook secret 32').toString('base64')
const scopes = ['provisioning:write', 'provisioning:read', 'groups:write']

async function service (t: Test, prefixes: { a?: string, b?: string }) {
  const { sim, genesys, close } = await simAndClient({ sim: { rateLimitPerMinute: 100_000 } })
  t.teardown(close)
  const receiver = await startReceiver()
  t.teardown(() => receiver.close())
  const dir = await mkdtemp(join(tmpdir(), 'prov-tenants-'))
  const clientsFile = join(dir, 'clients.json')
  await writeFile(clientsFile, JSON.stringify({
    clients: [
      { id: 'bpo-a', name: 'BPO A', keySha256: sha256Hex(KEY_A), scopes, divisions: ['BPO Alpha'], webhook: { url: receiver.url, secrets: [SECRET], events: ['provisioning.completed'] }, ...(prefixes.a !== undefined ? { externalIdPrefix: prefixes.a } : {}) },
      { id: 'bpo-b', name: 'BPO B', keySha256: sha256Hex(KEY_B), scopes, divisions: ['BPO Beta'], ...(prefixes.b !== undefined ? { externalIdPrefix: prefixes.b } : {}) },
    ],
  }))
  const { url, call, logs } = await serveEmbedded(t, { ...simulatorEnv(sim), CLIENTS_FILE: clientsFile })
  const hire = (key: string, body: Record<string, unknown>) => call(key, 'POST', '/v1/provisioning-requests', { givenName: 'Test', familyName: 'Person', ...body }, { prefer: 'wait=20' })
  const writes = () => sim.requests().filter((r) => r.method !== 'GET' && r.path !== '/oauth/token')
  const userIdOf = (externalId: string) => [...sim.state.users.values()].filter((u) => u.state !== 'deleted' && u.externalId === externalId).map((u) => u.id)
  return { sim, genesys, url, call, hire, writes, userIdOf, receiver, logs }
}

/** Writes whose path names one of these Genesys ids (users, groups). */
const touching = (writes: Array<{ path: string }>, ids: string[]) => writes.filter((w) => ids.some((id) => w.path.includes(id)))

t.test('1. an HR id of another tenant never adopts its user (bare HR ids: refused; namespaced: a separate user)', async (t) => {
  const s = await service(t, { a: '', b: '' })
  const b = await s.hire(KEY_B, { hrId: '1001', email: 'beta.person@example.com', division: 'BPO Beta', roles: ['Agent'] })
  t.equal(b.status, 201, JSON.stringify(b.body))
  const bUser = String(b.body.genesysUserId)
  const user = s.sim.state.users.get(bUser)
  if (user) user.state = 'inactive'
  const before = s.writes().length
  const a = await s.hire(KEY_A, { hrId: '1001', email: 'alpha.person@example.com', division: 'BPO Alpha', roles: ['Agent'] })
  t.equal(a.status, 200)
  t.equal(a.body.status, 'rejected', 'A cannot take over B\'s (inactive) user by its HR id')
  t.same((a.body.issues as Array<{ code: string }>).map((i) => i.code), ['hrId.taken'])
  t.notMatch(JSON.stringify(a.body), new RegExp(bUser), 'the refusal reveals no id of B\'s')
  t.same(touching(s.writes().slice(before), [bUser]), [], 'no write by A touched B\'s user')
  t.equal(s.sim.state.users.get(bUser)?.state, 'inactive', "B's user is as it was")

  // A user in BPO Beta that no client manages (made by hand, or before the service) is no one's to take either.
  const unmanaged = await s.genesys.client.users.create({ userName: 'beta.legacy@example.com', displayName: 'Beta Legacy', externalId: '1002', enterprise: { division: 'BPO Beta' } })
  await s.genesys.client.users.patch(unmanaged.resource.id, [{ op: 'replace', path: 'active', value: false }], unmanaged.version)
  const mark = s.writes().length
  const a3 = await s.hire(KEY_A, { hrId: '1002', email: 'alpha.legacy@example.com', division: 'BPO Alpha', roles: ['Agent'] })
  t.equal(a3.body.status, 'rejected', 'an unmanaged user of another division with the HR id is refused')
  t.same((a3.body.issues as Array<{ code: string }>).map((i) => i.code), ['hrId.taken'])
  const a4 = await s.hire(KEY_A, { hrId: '1002', email: 'beta.legacy@example.com', division: 'BPO Alpha', roles: ['Agent'] })
  t.equal(a4.body.status, 'rejected', 'even with its email: it lies outside the client\'s divisions')
  t.same(touching(s.writes().slice(mark), [unmanaged.resource.id]), [], 'no write touched it')
  t.equal(s.sim.state.users.get(unmanaged.resource.id)?.state, 'inactive')

  const ns = await service(t, {})
  const b2 = await ns.hire(KEY_B, { hrId: '1001', email: 'beta.person@example.com', division: 'BPO Beta' })
  const a2 = await ns.hire(KEY_A, { hrId: '1001', email: 'alpha.person@example.com', division: 'BPO Alpha' })
  t.equal(a2.status, 201, 'with namespaced HR ids, A\'s 1001 is a person of its own')
  t.not(a2.body.genesysUserId, b2.body.genesysUserId)
  t.same(ns.userIdOf('bpo-a:1001'), [a2.body.genesysUserId])
  t.same(ns.userIdOf('bpo-b:1001'), [b2.body.genesysUserId])
})

t.test('2. two tenants posting one bare HR id at the same moment never make two users with one externalId', async (t) => {
  const s = await service(t, { a: '', b: '' })
  // A new user stays invisible to lookups for a while, as in Genesys: neither request can see the other's user.
  s.sim.setFaults({ consistencyDelayMs: 1500 })
  const outcomes = await Promise.all([
    s.hire(KEY_A, { hrId: '2002', email: 'first.of.two@example.com', division: 'BPO Alpha' }),
    s.hire(KEY_B, { hrId: '2002', email: 'second.of.two@example.com', division: 'BPO Beta' }),
  ])
  const statuses = outcomes.map((o) => o.body.status).sort()
  t.same(statuses, ['completed', 'rejected'], JSON.stringify(outcomes.map((o) => o.body.issues ?? o.body.status)))
  t.equal(s.userIdOf('2002').length, 1, 'exactly one Genesys user carries the externalId')
  const refused = outcomes.find((o) => o.body.status === 'rejected')
  t.same((refused?.body.issues as Array<{ code: string }>).map((i) => i.code), ['hrId.taken'])
})

t.test('3. a group mapped by one tenant cannot be mapped, synced or put on a queue by another', async (t) => {
  const s = await service(t, {})
  const pathB = encodeURIComponent('Billing/Desk')
  const mapB = await s.call(KEY_B, 'PUT', `/v1/group-mappings/${pathB}`, { genesysGroup: 'Beta Desk', queues: ['Billing'], create: true })
  t.equal(mapB.status, 201, JSON.stringify(mapB.body))
  const groupB = String((mapB.body.genesysGroup as { id: string }).id)
  const b = await s.hire(KEY_B, { hrId: 'B-1', email: 'beta.agent@example.com', division: 'BPO Beta', groups: ['Billing/Desk'] })
  t.equal(b.body.status, 'completed')
  const before = s.writes().length
  const pathA = encodeURIComponent('Ops/Takeover')
  const mapA = await s.call(KEY_A, 'PUT', `/v1/group-mappings/${pathA}`, { genesysGroup: 'Beta Desk', queues: ['Support'] })
  t.equal(mapA.status, 409, "A cannot claim B's group")
  t.match(mapA.body, { code: 'PROV_ERR_CONFLICT', detail: /owned by another division/ })
  const share = await s.call(KEY_A, 'PUT', `/v1/group-mappings/${pathA}`, { genesysGroup: 'Beta Desk', queues: [], shareGroup: true })
  t.equal(share.status, 403, 'sharing needs the admin scope')
  t.equal((await s.call(KEY_A, 'PUT', `/v1/groups/${pathA}/members`, { members: [] }, {})).status, 404, 'so there is nothing of A\'s to sync')
  t.equal((await s.call(KEY_A, 'PUT', `/v1/groups/${pathB}/members`, { members: ['A-1'] })).status, 403)
  t.same(touching(s.writes().slice(before), [groupB, String(b.body.genesysUserId)]), [], 'no write by A touched B\'s group or user')
  t.ok(s.sim.state.groups.get(groupB)?.memberIds.includes(String(b.body.genesysUserId)), "B's agent is still in B's group")
})

t.test('4. an unmapped path never falls back to a group another division owns', async (t) => {
  const s = await service(t, {})
  const mapB = await s.call(KEY_B, 'PUT', `/v1/group-mappings/${encodeURIComponent('Billing/Desk')}`, { genesysGroup: 'Billing', queues: [] })
  t.equal(mapB.status, 201, JSON.stringify(mapB.body))
  const before = s.writes().length
  const a = await s.hire(KEY_A, { hrId: 'A-4', email: 'alpha.four@example.com', division: 'BPO Alpha', groups: ['Whatever/Billing'] })
  t.equal(a.body.status, 'rejected')
  t.same((a.body.issues as Array<{ code: string }>).map((i) => i.code), ['group.notFound'])
  t.same(touching(s.writes().slice(before), [String((mapB.body.genesysGroup as { id: string }).id)]), [])
})

t.test('5. names compared by identity; invisible characters refused; refusals and logs reveal nothing of others', async (t) => {
  const s = await service(t, {})
  const mapA = await s.call(KEY_A, 'PUT', `/v1/group-mappings/${encodeURIComponent('Ops/Care')}`, { genesysGroup: 'Alpha Care', queues: ['Support'], create: true })
  t.equal(mapA.status, 201, JSON.stringify(mapA.body))
  const lower = await s.hire(KEY_A, { hrId: 'A-5', email: 'alpha.five@example.com', division: 'bpo alpha', groups: ['Ops/Care'] })
  t.equal(lower.body.status, 'completed', 'a division spelled in lower case still finds the mapped group')
  t.equal(lower.body.division, 'BPO Alpha')

  const nul = await s.call(KEY_A, 'POST', '/v1/provisioning-requests?dryRun=true', { hrId: 'A-6', email: 'alpha.six@example.com', givenName: 'A', division: 'BPO Alpha', groups: ['X/Sales\u0000'] })
  t.equal(nul.status, 200, 'a dry run with a control character answers its issues, not a 502 with Genesys\' words')
  t.match(nul.body, { valid: false, issues: [{ code: 'text.invisibleCharacter', path: '/groups/0' }] })
  const nulHire = await s.call(KEY_A, 'POST', '/v1/provisioning-requests', { hrId: 'A-6', email: 'alpha.six@example.com', givenName: 'A', division: 'BPO Alpha', groups: ['X/Sales\u0000'] })
  t.equal(nulHire.status, 422, 'and intake refuses it before anything is stored')
  t.match(nulHire.body, { issues: [{ code: 'text.invisibleCharacter', path: '/groups/0' }] })
  const zw = await s.call(KEY_A, 'PUT', `/v1/group-mappings/${encodeURIComponent('Ops/\u200bCare')}`, { genesysGroup: 'Alpha Care', queues: [] })
  t.equal(zw.status, 422, 'a zero-width space is no valid mapping path')

  const b = await s.hire(KEY_B, { hrId: 'B-5', email: 'beta.five@example.com', division: 'BPO Beta' })
  const probe = await s.call(KEY_A, 'POST', '/v1/provisioning-requests?dryRun=true', { hrId: 'A-7', email: 'beta.five@example.com', givenName: 'A', division: 'BPO Alpha' })
  t.equal(probe.status, 200)
  t.same((probe.body.issues as Array<{ code: string }>).map((i) => i.code), ['email.taken'])
  t.notMatch(JSON.stringify(probe.body), new RegExp(`${String(b.body.genesysUserId)}|${String(b.body.id)}`), 'email.taken names no id of B\'s')

  await s.call(KEY_A, 'GET', `/v1/me?api_key=${KEY_B}&token=abc`)
  t.notMatch(s.logs.text(), new RegExp(`${KEY_B}|token=abc`), 'query-string values never reach the access log')
  t.match(s.logs.text(), /api_key=\*\*\*/)
})

t.test('an inactive user of the tenant\'s own with its HR id and email is reactivated, and the webhook says so', async (t) => {
  const s = await service(t, {})
  const seeded = await s.genesys.client.users.create({ userName: 'return.ing@example.com', displayName: 'Return Ing', externalId: 'bpo-a:3003', enterprise: { division: 'BPO Alpha' } })
  await s.genesys.client.users.patch(seeded.resource.id, [{ op: 'replace', path: 'active', value: false }], seeded.version)
  const creates = () => s.writes().filter((w) => w.method === 'POST' && /scim\/v2\/users$/.test(w.path) && w.status < 300).length
  const before = creates()
  const r = await s.hire(KEY_A, { hrId: '3003', email: 'return.ing@example.com', division: 'BPO Alpha', roles: ['Agent'] })
  t.equal(r.body.status, 'completed', JSON.stringify(r.body.issues ?? r.body.error))
  t.equal(r.body.genesysUserId, seeded.resource.id, 'the same Genesys user')
  t.equal(s.sim.state.users.get(seeded.resource.id)?.state, 'active', 'it can log in again')
  t.equal(creates(), before, 'no user was created')
  await s.receiver.waitFor(1)
  const event = verifyWith(SECRET, s.receiver.received[0] ?? { headers: {}, body: '', at: 0 }) as { type: string, data: { account: string } }
  t.match(event, { type: 'provisioning.completed', data: { account: 'reactivated' } })
})
