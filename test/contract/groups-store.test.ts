import t, { type Test } from 'tap'
import type { GroupMapping, GroupSync, GroupSyncStore, MappingStore } from '../../src/groups/ports.js'
import { createMemoryGroupSyncStore, createMemoryMappingStore } from '../../src/groups/store/memory.js'
import { createMemoryDeliveryStore } from '../../src/webhooks/store/memory.js'
import { createRedisGroupSyncStore, createRedisMappingStore } from '../../src/groups/store/redis.js'
import { createRedisDeliveryStore } from '../../src/webhooks/store/redis.js'
import { deliveryForGroupSync } from '../../src/groups/events.js'
import type { DeliveryStore } from '../../src/webhooks/ports.js'
import { redisTwin } from '../helpers/redis.js'


const mapping = (hrPath: string, division = 'BPO Alpha'): GroupMapping => ({
  hrPath, division, genesysGroup: { id: `g-${hrPath}`, name: hrPath }, queues: [{ id: 'q1', name: 'Support' }],
  createdAt: '2026-11-22T09:00:00.000Z', updatedAt: '2026-11-22T09:00:00.000Z', updatedBy: 'hris',
})

let seq = 0
function sync (over: Partial<GroupSync> = {}): GroupSync {
  seq++
  const at = new Date(Date.UTC(2026, 10, 22, 9, 0, seq)).toISOString()
  return {
    id: `gsy_${String(seq).padStart(26, '0')}`, clientId: 'hris', hrPath: 'Ops/Tier 2', division: 'BPO Alpha', groupId: 'g1',
    change: { mode: 'replace', members: ['H1'] }, confirmed: false, status: 'accepted', createdAt: at, updatedAt: at, attempts: 0, ...over,
  }
}

function contract (t: Test, name: string, make: () => Promise<{ mappings: MappingStore, syncs: GroupSyncStore, deliveries: DeliveryStore }>): void {
  t.test(`${name}: mappings`, async (t) => {
    const { mappings } = await make()
    t.equal(await mappings.get('A/B'), undefined)
    await mappings.put(mapping('B/C'))
    await mappings.put(mapping('A/B', 'BPO Beta'))
    t.same(await mappings.get('A/B'), mapping('A/B', 'BPO Beta'))
    t.same((await mappings.list()).map((m) => m.hrPath), ['A/B', 'B/C'], 'listed by path')
    t.equal(await mappings.delete('A/B'), true)
    t.equal(await mappings.delete('A/B'), false)
    t.same((await mappings.list()).map((m) => m.hrPath), ['B/C'])
  })

  t.test(`${name}: group ownership claims`, async (t) => {
    const { mappings } = await make()
    t.equal(await mappings.ownerOf('g-1'), undefined)
    t.equal(await mappings.claimGroup('g-1', 'div-a'), 'div-a', 'the first claim holds')
    t.equal(await mappings.claimGroup('g-1', 'div-b'), 'div-a', 'a second division is told the owner')
    t.equal(await mappings.claimGroup('g-1', 'div-a'), 'div-a', 'claiming again is harmless')
    t.equal(await mappings.ownerOf('g-1'), 'div-a')
    await mappings.releaseGroup('g-1', 'div-b')
    t.equal(await mappings.ownerOf('g-1'), 'div-a', 'only the owner releases')
    await mappings.releaseGroup('g-1', 'div-a')
    t.equal(await mappings.ownerOf('g-1'), undefined)
    t.equal(await mappings.claimGroup('g-1', 'div-b'), 'div-b', 'a released group can be claimed again')
  })

  t.test(`${name}: syncs, pending until terminal, the webhook written with the terminal state`, async (t) => {
    const { syncs, deliveries } = await make()
    const s = sync()
    await syncs.insert(s)
    t.same(await syncs.get(s.id), s)
    t.same(await syncs.pending('2100-01-01T00:00:00.000Z', 10), [s.id])
    const running = { ...s, status: 'running' as const, updatedAt: new Date(Date.parse(s.updatedAt) + 1000).toISOString() }
    await syncs.save(running)
    t.same(await syncs.pending('2100-01-01T00:00:00.000Z', 10), [s.id], 'running is still pending')
    const done: GroupSync = { ...running, status: 'completed', result: { added: ['H1'], removed: [], removedUnmapped: [], unknownHrIds: [], membersBefore: 0, membersAfter: 1, patches: 1, conflicts: 0 } }
    const hook = deliveryForGroupSync(done, { webhook: { url: 'https://hris.example.com/h', secrets: ['whsec_' + 'A'.repeat(32)] } })
    t.ok(hook)
    await syncs.save({ ...done, webhookId: hook?.id }, hook)
    t.same(await syncs.pending('2100-01-01T00:00:00.000Z', 10), [], 'terminal leaves the pending set')
    t.equal((await deliveries.get(hook?.id ?? ''))?.type, 'group.sync.completed')
    t.same(await deliveries.outbox('2100-01-01T00:00:00.000Z', 10), [hook?.id])
    t.equal(deliveryForGroupSync(done, { webhook: { url: 'https://h', secrets: ['whsec_' + 'A'.repeat(32)], events: ['provisioning.completed'] } }), undefined, 'a client that does not take the event gets none')
    const other = sync({ clientId: 'other' })
    await syncs.insert(other)
    t.same((await syncs.list('hris', { limit: 10 })).items.map((x) => x.id), [s.id], 'listing is per client')
    t.same((await syncs.list('hris', { limit: 10, hrPath: 'Nope' })).items, [])
  })
}

contract(t, 'memory', async () => {
  const deliveries = createMemoryDeliveryStore()
  return { mappings: createMemoryMappingStore(), syncs: createMemoryGroupSyncStore({ outbox: deliveries }), deliveries }
})

redisTwin(t, contract, (redis) => ({ mappings: createRedisMappingStore(redis), syncs: createRedisGroupSyncStore(redis), deliveries: createRedisDeliveryStore(redis) }))
