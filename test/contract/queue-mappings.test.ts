import { pino } from 'pino'
import t, { type Test } from 'tap'
import { createClientRegistry, sha256Hex, type AuthenticatedClient } from '../../src/config/clients.js'
import { createGenesysConnection } from '../../src/genesys/connection.js'
import { createMemoryRateBudget } from '../../src/genesys/budget/memory.js'
import { createMemoryTokenProvider } from '../../src/genesys/token/memory.js'
import { createMappingService } from '../../src/groups/mappings.js'
import type { QueueLock } from '../../src/groups/ports.js'
import { createGroupSyncService } from '../../src/groups/sync.js'
import { createSimulator, type Simulator } from '../../src/simulator/index.js'
import { createMemoryGroupSyncStore, createMemoryMappingStore } from '../../src/groups/store/memory.js'
import { createMemoryQueueLock } from '../../src/groups/lock/memory.js'
import { createRedisQueueLock } from '../../src/groups/lock/redis.js'
import { buildTestApp } from '../helpers/app.js'
import { BUSY, busyQueueSeed } from '../helpers/queue-seed.js'
import { redisBinary, startRedis } from '../helpers/redis.js'
import { Redis } from 'ioredis'

const ALL: AuthenticatedClient = { id: 'hris', name: 'HRIS', scopes: ['groups:write'], divisions: '*' }

/** One replica of the service's mapping side: its own Genesys connection to the shared simulator, and the given lock. */
function replica (t: Test, sim: Simulator, queueLock: QueueLock, store = createMemoryMappingStore()) {
  const genesys = createGenesysConnection({
    apiUrl: sim.url,
    loginUrl: sim.url,
    ...sim.credentials,
    timeouts: { connectMs: 2000, headersMs: 5000, bodyMs: 5000 },
    maxConnections: 8,
    logger: pino({ enabled: false }),
    tokenProvider: (fetchToken) => createMemoryTokenProvider({ fetchToken }),
    budget: createMemoryRateBudget({ perMinute: 100_000 }),
  })
  t.teardown(() => genesys.close())
  return { store, mappings: createMappingService({ store, directoryFor: () => genesys.client, queueLock, clock: { now: Date.now }, maxGroupDepth: 5 }) }
}

async function busySim (t: Test): Promise<Simulator> {
  const sim = await createSimulator({ seed: busyQueueSeed(), rateLimitPerMinute: 100_000 })
  t.teardown(() => sim.close())
  return sim
}

t.test('a mapping applied to a busy queue keeps its team, skill group, routing rule and bullseye ring', async (t) => {
  const sim = await busySim(t)
  const { mappings } = replica(t, sim, createMemoryQueueLock())
  const before = structuredClone(sim.state.queues.get(BUSY.queue))
  const { mapping } = await mappings.put(ALL, 'Ops/Sales', { genesysGroup: 'Sales', queues: ['Care Busy'], create: false, division: 'BPO Alpha' })
  const after = sim.state.queues.get(BUSY.queue)
  t.same(after?.memberGroups, [...(before?.memberGroups ?? []), { id: mapping.genesysGroup.id, type: 'GROUP' }], 'every member group kept with its type, the mapped group added')
  t.same(after?.conditionalGroupRouting, before?.conditionalGroupRouting, 'the conditional group routing rule is unchanged')
  t.same(after?.bullseye, before?.bullseye, 'the bullseye ring is unchanged')
  t.equal(after?.divisionId, before?.divisionId)
  const puts = sim.requests().filter((r) => r.method === 'PUT' && r.path === `/api/v2/routing/queues/${BUSY.queue}`)
  t.same(puts.map((r) => r.status), [200], 'one PUT, accepted: it carried no division and no rules[0].queue')
  const reads = sim.requests().filter((r) => r.method === 'GET' && r.path === `/api/v2/routing/queues/${BUSY.queue}`)
  t.equal(reads.length, 2, 'read before, read back after')
})

t.test('two replicas mapping groups onto one queue at once: both groups end up on it', { skip: redisBinary.skip }, async (t) => {
  const sim = await busySim(t)
  const redis = await startRedis()
  t.teardown(() => redis.stop())
  const conns = [new Redis(redis.url), new Redis(redis.url)]
  t.teardown(() => { for (const c of conns) c.disconnect() })
  const [ca, cb] = conns as [Redis, Redis]
  const a = replica(t, sim, createRedisQueueLock(ca))
  const b = replica(t, sim, createRedisQueueLock(cb))
  // Slow queue reads: without the shared lock both replicas read the same queue and one PUT overwrites the other.
  sim.setFaults({ latencyMs: 100, match: '^GET /api/v2/routing/queues/' })
  const [ra, rb] = await Promise.all([
    a.mappings.put(ALL, 'Ops/Sales', { genesysGroup: 'Sales', queues: ['Care Busy'], create: false, division: 'BPO Alpha' }),
    b.mappings.put(ALL, 'Ops/Billing', { genesysGroup: 'Billing', queues: ['Care Busy'], create: false, division: 'BPO Alpha' }),
  ])
  const ids = sim.state.queues.get(BUSY.queue)?.memberGroups.map((g) => g.id) ?? []
  t.ok(ids.includes(ra.mapping.genesysGroup.id), 'the first replica\'s group is on the queue')
  t.ok(ids.includes(rb.mapping.genesysGroup.id), 'and the second\'s')
  t.ok(ids.includes(BUSY.team) && ids.includes(BUSY.skillGroup), 'and the queue kept its team and skill group')
})

t.test('releasing a queue whose routing still uses the group: 409 problem+json naming the rule, nothing changed', async (t) => {
  const sim = await busySim(t)
  const { mappings, store } = replica(t, sim, createMemoryQueueLock())
  // "Overflow Care" is on the queue and its conditional group routing rule routes to it.
  await mappings.put(ALL, 'Ops/Overflow', { genesysGroup: 'Overflow Care', queues: ['Care Busy', 'Support'], create: false, division: 'BPO Alpha' })
  const before = structuredClone(sim.state.queues.get(BUSY.queue))
  const supportBefore = structuredClone(sim.state.queues.get(BUSY.supportQueue))
  const mappingBefore = await store.get('Ops/Overflow')

  const app = await buildTestApp({
    deps: {
      clients: createClientRegistry([{ id: 'hris', name: 'HRIS', keySha256: sha256Hex('gpk_queue_test_key_0123456789abcdefghijklmno'), scopes: ['groups:write'], divisions: '*' }]),
      groups: { mappings, syncs: createGroupSyncService({ syncs: createMemoryGroupSyncStore(), mappings: store, queue: { enqueue: async () => {} }, clock: { now: Date.now }, maxGroupDepth: 5 }), maxRemovalsPercent: 20 },
    },
  })
  t.teardown(() => app.close())
  const res = await app.inject({
    method: 'PUT',
    url: `/v1/group-mappings/${encodeURIComponent('Ops/Overflow')}`,
    headers: { authorization: 'Bearer gpk_queue_test_key_0123456789abcdefghijklmno', 'content-type': 'application/json' },
    payload: { genesysGroup: 'Overflow Care', queues: ['Support'], create: false, division: 'BPO Alpha' },
  })
  t.equal(res.statusCode, 409)
  t.match(res.headers['content-type'], /application\/problem\+json/)
  const body = res.json<{ code: string, issues: Array<{ code: string, message: string }> }>()
  t.equal(body.code, 'PROV_ERR_CONFLICT')
  t.same(body.issues.map((i) => i.code), ['queue.groupReferenced'])
  t.match(body.issues[0]?.message, /queue "Care Busy" still routes to group "Overflow Care" through conditional group routing rule 1/)
  t.same(sim.state.queues.get(BUSY.queue), before, 'the busy queue is unchanged')
  t.same(sim.state.queues.get(BUSY.supportQueue), supportBefore, 'nothing else was written either')
  t.same(await store.get('Ops/Overflow'), mappingBefore, 'the mapping is unchanged')
})

t.test('"create": true for a name Genesys holds in another case uses that group, never a duplicate', async (t) => {
  const sim = await busySim(t)
  const { mappings } = replica(t, sim, createMemoryQueueLock())
  const groupsBefore = sim.state.groups.size
  const { mapping } = await mappings.put(ALL, 'Ops/Sales Desk', { genesysGroup: 'sales', queues: [], create: true, division: 'BPO Alpha' })
  t.same(mapping.genesysGroup, { id: BUSY.sales, name: 'Sales' }, 'the existing group, as Genesys spells it')
  t.equal(sim.state.groups.size, groupsBefore, 'no group created')
  t.notOk(sim.requests().some((r) => r.method === 'POST' && r.path === '/api/v2/groups'))
})
