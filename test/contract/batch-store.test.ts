import t, { type Test } from 'tap'
import { deliveryForBatch } from '../../src/batches/events.js'
import type { BatchStore, WorkerBatch } from '../../src/batches/ports.js'
import { createMemoryBatchStore } from '../../src/batches/store/memory.js'
import { createRedisBatchStore } from '../../src/batches/store/redis.js'
import type { DeliveryStore } from '../../src/webhooks/ports.js'
import { createMemoryDeliveryStore } from '../../src/webhooks/store/memory.js'
import { createRedisDeliveryStore } from '../../src/webhooks/store/redis.js'
import { redisTwin } from '../helpers/redis.js'

let seq = 0
function batch (over: Partial<WorkerBatch> = {}): WorkerBatch {
  seq++
  const at = new Date(Date.UTC(2026, 11, 7, 9, 0, seq)).toISOString()
  return {
    id: `wbt_${String(seq).padStart(26, '0')}`, clientId: 'hris', dryRun: false, status: 'accepting', fingerprint: 'f', keyed: false,
    createdAt: at, updatedAt: at, total: 2, counts: { accepted: 0, unchanged: 0, rejected: 0, planned: 0 }, results: [], ...over,
  }
}

/** A time after every batch here: all open ones are due. */
const FAR = Date.UTC(2030, 0, 1)

const WEBHOOK = { webhook: { url: 'https://hris.example.com/hooks', secrets: ['whsec_' + 'a'.repeat(32)] } }

function contract (t: Test, name: string, make: () => Promise<{ batches: BatchStore, deliveries: DeliveryStore }>): void {
  t.test(`${name}: insert once, save, open set, settle counts each request once`, async (t) => {
    const { batches } = await make()
    const b = batch()
    t.equal(await batches.insert(b), true)
    t.equal(await batches.insert({ ...b, total: 9 }), false, 'an id that exists is not replaced')
    t.same(await batches.get(b.id), b)
    t.same(await batches.open(10, FAR), [], 'a batch being taken in is not open yet')
    const accepted: WorkerBatch = { ...b, status: 'accepted', counts: { ...b.counts, accepted: 2 }, results: [{ index: 0, hrId: 'H1', outcome: 'accepted', requestId: 'prq_1' }, { index: 1, hrId: 'H2', outcome: 'accepted', requestId: 'prq_2' }] }
    await batches.save(accepted)
    t.same(await batches.get(b.id), accepted)
    t.same(await batches.open(10, FAR), [b.id])
    t.equal(await batches.settle(b.id, ['prq_1']), 1)
    t.equal(await batches.settle(b.id, ['prq_1']), 1, 'a notice seen again counts once')
    t.equal(await batches.settle(b.id, []), 1, 'no ids: the count as it is')
    t.equal(await batches.settle(b.id, ['prq_2', 'prq_1']), 2)
    t.equal(await batches.get('wbt_none'), undefined)
    const gone = batch({ status: 'completed' })
    t.equal(await batches.complete(gone), false, 'a batch whose record is gone (expired) is not completed')
    t.equal(await batches.get(gone.id), undefined, 'nor written again')
  })

  t.test(`${name}: one intake lease at a time; the open set by next check, rechecked and forgotten`, async (t) => {
    const { batches } = await make()
    t.equal(await batches.lease('wbt_lease', 60_000), true)
    t.equal(await batches.lease('wbt_lease', 60_000), false, 'held: a second intake is refused')
    await batches.release('wbt_lease')
    t.equal(await batches.lease('wbt_lease', 60_000), true, 'released: free again')
    const a = batch({ status: 'accepted' })
    const b = batch({ status: 'accepted' })
    for (const x of [a, b]) { await batches.insert(x); await batches.save(x) }
    t.same(await batches.open(10, FAR), [a.id, b.id], 'the longest due first')
    t.same(await batches.open(1, FAR), [a.id], 'bounded')
    await batches.recheck(a.id, FAR + 1)
    t.same(await batches.open(10, FAR), [b.id], 'a batch checked is due again only later')
    t.same(await batches.open(10, FAR + 1), [b.id, a.id])
    t.same(await batches.open(10, Date.parse(a.updatedAt) - 1), [], 'nothing due before its time')
    await batches.forget(b.id)
    t.same(await batches.open(10, FAR + 1), [a.id], 'forgotten')
    await batches.recheck('wbt_never', FAR)
    t.same(await batches.open(10, FAR + 1), [a.id], 'a recheck adds nothing that is not open')
  })

  t.test(`${name}: completion happens once, with its webhook`, async (t) => {
    const { batches, deliveries } = await make()
    const b = batch({ status: 'accepted' })
    await batches.insert(b)
    await batches.save(b)
    const done: WorkerBatch = { ...b, status: 'completed', completedAt: b.updatedAt, finalCounts: { completed: 1, failed: 1, pending: 0 } }
    const hook = deliveryForBatch(done, WEBHOOK)
    t.ok(hook)
    t.equal(await batches.complete({ ...done, webhookId: hook?.id }, hook), true)
    t.equal(await batches.complete({ ...done, total: 99 }, hook), false, 'a second completion changes nothing')
    t.equal((await batches.get(b.id))?.total, 2)
    t.equal((await batches.get(b.id))?.status, 'completed')
    t.same(await batches.open(10, FAR), [], 'no longer open')
    const d = await deliveries.get(hook?.id ?? '')
    t.equal(d?.type, 'worker-batch.completed')
    t.match(JSON.parse(d?.body ?? '{}'), { data: { batchId: b.id, counts: { completed: 1, failed: 1 } } })
  })
}

contract(t, 'memory', async () => {
  const deliveries = createMemoryDeliveryStore()
  return { batches: createMemoryBatchStore({ outbox: deliveries }), deliveries }
})

redisTwin(t, contract, (redis) => ({ batches: createRedisBatchStore(redis), deliveries: createRedisDeliveryStore(redis) }))
