import t, { type Test as Tap } from 'tap'
import type { RequestStore } from '../../src/provisioning/ports.js'
import { createMemoryRequestStore } from '../../src/provisioning/store/memory.js'
import { createMemoryDeliveryStore } from '../../src/webhooks/store/memory.js'
import { createRedisRequestStore } from '../../src/provisioning/store/redis.js'
import { createRedisDeliveryStore } from '../../src/webhooks/store/redis.js'
import { webhookKeys } from '../../src/webhooks/store/keys.js'
import type { Delivery, DeliveryStore } from '../../src/webhooks/ports.js'
import { delivery, requestRecord } from '../helpers/records.js'
import { redisTwin } from '../helpers/redis.js'

const request = requestRecord

const FUTURE = '2030-01-01T00:00:00.000Z'

/** One contract, two twins. */
function contract (t: Tap, name: string, make: () => Promise<{ deliveries: DeliveryStore, requests: RequestStore }>): void {
  t.test(`${name}: insert once, outbox until dispatched`, async (t) => {
    const { deliveries: s } = await make()
    const d = delivery()
    t.equal(await s.insert(d), true)
    t.same(await s.get(d.id), d, 'round trip')
    t.equal(await s.insert({ ...d, body: '{"changed":true}' }), false, 'a second insert of the id writes nothing')
    t.equal((await s.get(d.id))?.body, d.body)
    t.same(await s.outbox(FUTURE, 10), [d.id])
    t.same(await s.outbox(d.createdAt, 10), [], 'entries younger than the bound are left alone')
    await s.dispatched(d.id)
    t.same(await s.outbox(FUTURE, 10), [])
    t.equal(await s.get('msg_missing'), undefined)
  })

  t.test(`${name}: saves are refused for another generation`, async (t) => {
    const { deliveries: s } = await make()
    const d = delivery()
    await s.insert(d)
    t.equal(await s.save({ ...d, status: 'dead' }, 0), true)
    t.equal(await s.save({ ...d, status: 'pending', generation: 1 }, 0), true, 'a replay moves to generation 1')
    t.equal(await s.save({ ...d, status: 'delivered' }, 0), false, 'a late write of generation 0 is refused')
    t.equal((await s.get(d.id))?.status, 'pending')
    t.equal(await s.save(delivery(), 0), false, 'a missing delivery is not created by save')
  })

  t.test(`${name}: listing is per client, newest first, filtered and paged`, async (t) => {
    const { deliveries: s } = await make()
    const ds = [delivery(), delivery({ status: 'dead' }), delivery(), delivery({ clientId: 'hris-b' })]
    const shared = delivery({ subjectId: ds[0]?.subjectId })
    for (const d of [...ds, shared]) await s.insert(d)
    for (const d of ds.slice(0, 3)) await s.save(d, 0)
    await s.save({ ...(ds[1] as Delivery) }, 0)
    const all = await s.list('hris-a', { limit: 10 })
    t.same(all.items.map((d) => d.id), [shared.id, ds[2]?.id, ds[1]?.id, ds[0]?.id])
    t.equal(all.nextCursor, undefined)
    t.same((await s.list('hris-a', { limit: 10, status: 'dead' })).items.map((d) => d.id), [ds[1]?.id])
    t.same((await s.list('hris-a', { limit: 10, subjectId: ds[0]?.subjectId })).items.map((d) => d.id), [shared.id, ds[0]?.id])
    t.same((await s.list('hris-b', { limit: 10, subjectId: ds[0]?.subjectId })).items, [], 'another client sees none of them')
    const p1 = await s.list('hris-a', { limit: 2 })
    t.equal(p1.items.length, 2)
    t.ok(p1.nextCursor)
    const p2 = await s.list('hris-a', { limit: 2, cursor: p1.nextCursor })
    t.same([...p1.items, ...p2.items].map((d) => d.id), all.items.map((d) => d.id), 'pages join up')
  })

  t.test(`${name}: endpoint state`, async (t) => {
    const { deliveries: s } = await make()
    t.equal(await s.endpointState('hris-a'), undefined)
    const state = { urlSha256: 'ab'.repeat(32), disabledAt: '2026-11-22T09:00:00.000Z', deliveryId: 'msg_x', statusCode: 410 }
    await s.disableEndpoint('hris-a', state)
    t.same(await s.endpointState('hris-a'), state)
    t.equal(await s.endpointState('hris-b'), undefined)
    t.equal(await s.enableEndpoint('hris-a'), true)
    t.equal(await s.enableEndpoint('hris-a'), false)
    t.equal(await s.endpointState('hris-a'), undefined)
  })

  t.test(`${name}: a terminal save writes its webhook in the same step, once`, async (t) => {
    const { deliveries, requests } = await make()
    const r = request()
    await requests.insert(r)
    const done = { ...r, status: 'completed' as const, updatedAt: new Date(Date.parse(r.updatedAt) + 1000).toISOString() }
    const d = delivery({ subjectId: r.id, createdAt: done.updatedAt })
    await requests.save({ ...done, webhookId: d.id }, d)
    t.equal((await requests.get(r.id))?.webhookId, d.id)
    t.same(await deliveries.get(d.id), d)
    t.same(await deliveries.outbox(FUTURE, 10), [d.id])
    await deliveries.dispatched(d.id)
    // A re-run of the same terminal step: the record is rewritten, the event is not duplicated.
    await requests.save({ ...done, webhookId: d.id }, { ...d, body: '{"second":true}' })
    t.equal((await deliveries.get(d.id))?.body, d.body, 'the first event stands')
    t.same(await deliveries.outbox(FUTURE, 10), [], 'and it is not put back in the outbox')
  })
}

contract(t, 'memory', async () => {
  const deliveries = createMemoryDeliveryStore()
  return { deliveries, requests: createMemoryRequestStore({ outbox: deliveries }) }
})

t.test('a memory request store without an outbox refuses a webhook write', async (t) => {
  await t.rejects(createMemoryRequestStore().save(request(), delivery()), /without a webhook outbox/)
})

redisTwin(t, contract, (redis) => ({ deliveries: createRedisDeliveryStore(redis), requests: createRedisRequestStore(redis) }), (t, connect) => {

  t.test('deliveries expire with the retention; the subject index too', async (t) => {
    const redis = await connect()
    const s = createRedisDeliveryStore(redis)
    const d = delivery()
    await s.insert(d)
    const ttl = await redis.ttl(webhookKeys.delivery(d.id))
    t.ok(ttl > 29 * 24 * 3600 && ttl <= 30 * 24 * 3600, `ttl ${ttl}`)
    await s.save({ ...d, status: 'delivered' }, 0)
    t.ok(await redis.ttl(webhookKeys.delivery(d.id)) > 29 * 24 * 3600, 'a save keeps the TTL')
    t.ok(await redis.ttl(webhookKeys.subjectIndex(d.subjectId)) > 0)
  })

  t.test('a terminal save refused by Redis writes neither the state nor its webhook', async (t) => {
    const redis = await connect()
    const requests = createRedisRequestStore(redis)
    const deliveries = createRedisDeliveryStore(redis)
    const r = request()
    await requests.insert(r)
    // Out of memory under noeviction: the script's first write is refused.
    await redis.config('SET', 'maxmemory', '1')
    t.teardown(() => redis.config('SET', 'maxmemory', '0'))
    const d = delivery({ subjectId: r.id })
    await t.rejects(requests.save({ ...r, status: 'completed', webhookId: d.id }, d), /OOM/)
    await redis.config('SET', 'maxmemory', '0')
    t.equal((await requests.get(r.id))?.status, 'accepted', 'the state is unchanged')
    t.equal(await deliveries.get(d.id), undefined, 'no event was written')
    t.same(await deliveries.outbox(FUTURE, 10), [])
  })
})
