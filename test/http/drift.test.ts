import t, { type Test } from 'tap'
import { sha256Hex } from '../../src/config/clients.js'
import { SCIM_ENTERPRISE_USER } from '../../src/genesys/types.js'
import { verifyWith } from '../helpers/receiver.js'
import { serveTenants } from '../helpers/tenants.js'

/**
 * Drift reconciliation through the real service (memory stores) and the
 * simulator over HTTP: three managed workers changed by hand in Genesys (a
 * division, a granted role, a managed membership), one run reports exactly
 * those; in repair mode the changes it queues restore them and the next run
 * finds nothing.
 */
t.setTimeout(120_000)

const KEY = 'gpk_drift_alpha_0123456789abcdefghijklmnopqrs'
const KEY_B = 'gpk_drift_beta_0123456789abcdefghijklmnopqrst'
const SECRET = 'whsec_' + Buffer.from('drift test webhook secret 32 by.').toString('base64')

async function driftedOrg (t: Test, mode: 'report' | 'repair') {
  const s = await serveTenants(t, (url) => [
    { id: 'hris-a', name: 'A', keySha256: sha256Hex(KEY), scopes: ['provisioning:write', 'provisioning:read', 'groups:write'], divisions: ['BPO Alpha'], webhook: { url, secrets: [SECRET], events: ['worker.drift.detected'] } },
    { id: 'hris-b', name: 'B', keySha256: sha256Hex(KEY_B), scopes: ['provisioning:write', 'provisioning:read'], divisions: ['BPO Beta'] },
  ], { env: { RECONCILE_MODE: mode, RECONCILE_INTERVAL_MINUTES: '0', RECONCILE_BUDGET_PERCENT: '100' } })
  const mapped = await s.call(KEY, 'PUT', `/v1/group-mappings/${encodeURIComponent('Ops/Care')}`, { genesysGroup: 'Alpha Care', create: true })
  if (mapped.status >= 300) throw new Error(`mapping: ${JSON.stringify(mapped.body)}`)
  const groupId = String((mapped.body.genesysGroup as { id: string }).id)
  const users: string[] = []
  for (const i of [1, 2, 3, 4]) {
    const hired = await s.call(KEY, 'PUT', `/v1/workers/D${i}`, { email: `drift.${i}@example.com`, givenName: 'Drift', familyName: `Person ${i}`, division: 'BPO Alpha', roles: ['Agent'], groups: ['Ops/Care'] }, { prefer: 'wait=20' })
    if (hired.status !== 201) throw new Error(`hire: ${JSON.stringify(hired.body)}`)
    users.push(String(hired.body.genesysUserId))
  }
  const [moved, ungranted, ungrouped] = users as [string, string, string]
  const g = s.genesys.client
  // By hand, in Genesys: a division changed, a granted role removed, a managed membership removed.
  const u = await g.users.get(moved)
  await g.users.patch(moved, [{ op: 'replace', path: `${SCIM_ENTERPRISE_USER}:division`, value: 'BPO Beta' }], u.version)
  const grants = (await g.grants.ofSubject(ungranted)).grants ?? []
  const agent = grants.find((x) => x.role.name === 'Agent')
  if (!agent) throw new Error('no Agent grant')
  await g.grants.remove(ungranted, { roleId: agent.role.id, divisionId: agent.division.id })
  const group = await g.groups.get(groupId)
  await g.groups.patchMembers(groupId, { remove: [ungrouped] }, group.version)
  /** Starts a run and waits (bounded) for it. */
  const reconcile = async () => {
    const started = await s.call(KEY, 'POST', '/v1/reconciliations', {})
    if (started.status !== 202) throw new Error(`reconcile: ${started.status} ${JSON.stringify(started.body)}`)
    for (let i = 0; i < 400; i++) {
      const run = await s.call(KEY, 'GET', `/v1/reconciliations/${String(started.body.id)}`)
      if (run.body.status !== 'running') return run
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    throw new Error('the run did not finish')
  }
  return { ...s, groupId, moved, ungranted, ungrouped, agent, reconcile }
}

t.test('report: one run reports exactly the three drifts, as current drift and in a signed webhook; nothing is written', async (t) => {
  const s = await driftedOrg(t, 'report')
  const before = s.writes().length
  const run = await s.reconcile()
  t.match(run.body, { status: 'completed', scope: 'hris-a', mode: 'report', workers: 4, repairs: 0 })
  t.same(run.body.found, { 'division.changed': 1, 'role.removed': 1, 'group.removed': 1 })
  t.equal(s.writes().length, before, 'report mode writes nothing upstream')
  const drift = await s.call(KEY, 'GET', '/v1/drift')
  const items = (drift.body.items as Array<{ hrId: string, kind: string, genesysUserId: string }>).map((f) => [f.kind, f.genesysUserId]).sort()
  t.same(items, [['division.changed', s.moved], ['group.removed', s.ungrouped], ['role.removed', s.ungranted]].sort())
  t.same(((await s.call(KEY, 'GET', '/v1/drift?kind=role.removed')).body.items as unknown[]).length, 1, 'filtered by kind')
  t.same((await s.call(KEY_B, 'GET', '/v1/drift')).body.items, [], 'another client sees none of it')
  t.equal((await s.call(KEY_B, 'GET', '/v1/drift?clientId=hris-a')).status, 403, 'nor may it ask')
  t.equal((await s.call(KEY_B, 'GET', `/v1/reconciliations/${String(run.body.id)}`)).status, 404, 'nor read the run')
  for (let i = 0; i < 100 && s.receiver.received.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 50))
  const hook = verifyWith(SECRET, s.receiver.received[0] ?? { headers: {}, body: '' }) as { type: string, data: { counts: Record<string, number>, findings: unknown[] } }
  t.equal(hook.type, 'worker.drift.detected')
  t.same(hook.data.counts, { 'division.changed': 1, 'role.removed': 1, 'group.removed': 1 })
})

t.test('repair: the run queues the changes that restore the desired state; the next run finds none', async (t) => {
  const s = await driftedOrg(t, 'repair')
  const first = await s.reconcile()
  t.same(first.body.found, { 'division.changed': 1, 'role.removed': 1, 'group.removed': 1 })
  t.equal(first.body.repairs, 3)
  const drift = (await s.call(KEY, 'GET', '/v1/drift')).body.items as Array<{ repairRequestId?: string }>
  for (const f of drift) {
    for (let i = 0; i < 300; i++) {
      const r = await s.call(KEY, 'GET', `/v1/provisioning-requests/${f.repairRequestId ?? ''}`)
      if (['completed', 'rejected', 'failed'].includes(String(r.body.status))) {
        t.equal(r.body.status, 'completed', `repair ${String(r.body.kind)} completed`)
        break
      }
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }
  const g = s.genesys.client
  t.equal((await g.users.get(s.moved)).resource[SCIM_ENTERPRISE_USER]?.division, 'BPO Alpha', 'moved back')
  t.ok((await g.grants.ofSubject(s.ungranted)).grants?.some((x) => x.role.id === s.agent.role.id), 'granted again')
  t.ok((await g.groups.get(s.groupId)).resource.members?.some((m) => m.value === s.ungrouped), 'joined again')
  const second = await s.reconcile()
  t.match(second.body, { status: 'completed', workers: 4, repairs: 0 })
  t.same(second.body.found, {}, 'the next run finds no drift')
  t.same((await s.call(KEY, 'GET', '/v1/drift')).body.items, [])
})
