import t from 'tap'
import { BUSY, busyQueueSeed } from '../helpers/queue-seed.js'
import { startSim } from '../helpers/simulator.js'

type Obj = Record<string, unknown>
const PATH = `/api/v2/routing/queues/${BUSY.queue}`

/** The queue as read, made into a PUT body the way the Terraform provider does: no division, no rules[0].queue. */
function writable (q: Obj): Obj {
  const { division: _d, ...rest } = q
  const cgr = structuredClone(rest.conditionalGroupRouting) as { rules: Obj[] }
  delete cgr.rules[0]?.queue
  return { ...rest, conditionalGroupRouting: cgr }
}

t.test('queues hold typed member groups, conditional group routing and bullseye rings', async (t) => {
  const h = await startSim(t, { seed: busyQueueSeed() })
  const q = (await h.call<Obj>('GET', PATH)).body
  t.same((q.memberGroups as Obj[]).map((g) => [g.type, g.name]), [['GROUP', 'Support'], ['TEAM', 'Care Team East'], ['SKILLGROUP', 'Spanish Speakers'], ['GROUP', 'Overflow Care'], ['GROUP', 'Ring Two Care']])
  t.match(q.conditionalGroupRouting, { rules: [{ queue: { id: BUSY.queue }, metric: 'EstimatedWaitTime', operator: 'GreaterThan', conditionValue: 30, waitSeconds: 20, groups: [{ id: BUSY.cgrGroup, type: 'GROUP' }] }] }, 'rule 1 names its own queue on read')
  t.match(q.bullseye, { rings: [{ expansionCriteria: [{ type: 'TIMEOUT_SECONDS', threshold: 15 }], memberGroups: [{ id: BUSY.ringGroup, type: 'GROUP' }] }] })
  const put = await h.call<Obj>('PUT', PATH, { body: writable(q), contentType: 'application/json' })
  t.equal(put.status, 200, 'the provider-style body is accepted')
  t.same(put.body.memberGroups, q.memberGroups, 'and changes nothing')
  t.same(put.body.conditionalGroupRouting, q.conditionalGroupRouting)
})

t.test('PUT refuses what Genesys refuses, each rule on its own', async (t) => {
  const h = await startSim(t, { seed: busyQueueSeed() })
  const q = (await h.call<Obj>('GET', PATH)).body
  const before = structuredClone(h.sim.state.queues.get(BUSY.queue))
  const refused = async (name: string, body: Obj, message: RegExp) => {
    const res = await h.call<Obj>('PUT', PATH, { body, contentType: 'application/json' })
    t.equal(res.status, 400, name)
    t.match(res.body, { code: 'bad.request', message }, name)
  }
  const base = writable(q)
  await refused('the GET body echoed (division)', { ...base, division: q.division }, /division cannot be changed/)
  const withQueue = structuredClone(base) as { conditionalGroupRouting: { rules: Obj[] } }
  ;(withQueue.conditionalGroupRouting.rules[0] ?? {}).queue = { id: BUSY.queue }
  await refused('rules[0].queue sent', withQueue as unknown as Obj, /rules\[0\]\.queue must not be set/)
  const groups = base.memberGroups as Obj[]
  await refused('a team sent back as GROUP', { ...base, memberGroups: groups.map((g) => (g.type === 'TEAM' ? { ...g, type: 'GROUP' } : g)) }, /is not a group/)
  await refused('a member group without its type', { ...base, memberGroups: groups.map((g) => (g.type === 'SKILLGROUP' ? { id: g.id } : g)) }, /type must be GROUP, TEAM or SKILLGROUP/)
  await refused('dropping a group conditional group routing uses', { ...base, memberGroups: groups.filter((g) => g.id !== BUSY.cgrGroup) }, /used by conditional group routing rule 1/)
  await refused('dropping a group a bullseye ring uses', { ...base, memberGroups: groups.filter((g) => g.id !== BUSY.ringGroup) }, /used by bullseye ring 1/)
  t.same(h.sim.state.queues.get(BUSY.queue), before, 'nothing was applied')
})
