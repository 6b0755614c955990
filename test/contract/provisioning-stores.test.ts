import t, { type Test as Tap } from 'tap'
import type { ChangeWindow, EmailReservations, IdempotencyStore, ProvisioningRecord, RequestStore, SharedDirectoryCache } from '../../src/provisioning/ports.js'
import type { WorkerEntry, WorkerRegistry } from '../../src/provisioning/registry.js'
import { createMemoryChangeWindow, createMemoryDirectoryCache, createMemoryEmailReservations, createMemoryIdempotencyStore, createMemoryRequestStore, createMemoryWorkerRegistry } from '../../src/provisioning/store/memory.js'
import { Cluster } from 'ioredis'
import { provisioningKeys } from '../../src/provisioning/store/keys.js'
import { createRedisChangeWindow, createRedisDirectoryCache, indexRegistryEntries, createRedisEmailReservations, createRedisIdempotencyStore, createRedisRequestStore, createRedisWorkerRegistry } from '../../src/provisioning/store/redis.js'
import { requestRecord } from '../helpers/records.js'
import { redisTwin } from '../helpers/redis.js'

interface Stores {
  requests: RequestStore
  reservations: EmailReservations
  idempotency: IdempotencyStore
  registry: WorkerRegistry
  changes: ChangeWindow
  directory: SharedDirectoryCache
  /** Redis only: drops a client's worker index (as before the upgrade) and rebuilds every index. */
  upgrade?: { dropIndex (clientId: string): Promise<void>, reindex (): Promise<{ entries: number, clients: number }> }
}

function entry (over: Partial<WorkerEntry> = {}): WorkerEntry {
  return {
    clientId: 'hris-a', hrId: 'E1', externalId: 'hris-a:E1', genesysUserId: 'u-1', divisionId: 'd-1', divisionName: 'BPO Alpha',
    grants: [], groups: [], active: true, origin: 'created', lastRequestId: 'prq_1', updatedAt: '2026-12-01T00:00:00.000Z', ...over,
  }
}

const record = requestRecord

/** One contract, two twins: the memory stores and the Redis adapters behave alike. */
function contract (t: Tap, name: string, make: () => Promise<Stores & { close (): Promise<void> }>): void {
  t.test(`${name}: request store`, async (t) => {
    const s = await make()
    t.teardown(() => s.close())
    const a = record({ hrId: 'E1' })
    t.equal(await s.requests.activeFor(a.clientId, 'E1'), undefined, 'no request in progress yet')
    t.same(await s.requests.insert(a), { inserted: true })
    t.equal(await s.requests.activeFor(a.clientId, 'E1'), a.id, 'the request in progress for the HR id')
    t.equal(await s.requests.activeFor('hris-other', 'E1'), undefined, 'per client')
    t.same(await s.requests.get(a.id), a, 'round trip')
    t.equal(await s.requests.get('prq_missing'), undefined)

    const dup = record({ hrId: 'E1' })
    t.same(await s.requests.insert(dup), { inserted: false, existingId: a.id }, 'one active request per (client, hrId)')
    t.equal(await s.requests.get(dup.id), undefined, 'nothing written for the refused one')
    t.same(await s.requests.insert(record({ hrId: 'E1', clientId: 'hris-b' })), { inserted: true }, 'hrIds are scoped per client')

    const future = new Date(Date.UTC(2030, 0, 1)).toISOString()
    t.ok((await s.requests.pending(future, 100)).includes(a.id), 'new requests are pending')
    await s.requests.save({ ...a, status: 'completed', updatedAt: new Date(Date.parse(a.updatedAt) + 1000).toISOString() })
    t.notOk((await s.requests.pending(future, 100)).includes(a.id), 'terminal requests leave the pending set')
    t.same(await s.requests.insert(dup), { inserted: true }, 'a terminal request frees the hrId')

    t.equal(await s.requests.claimHrId(a), false, 'a failed request cannot re-take an hrId held by another')
    const b = record({ hrId: 'E2', status: 'failed' })
    await s.requests.insert(b)
    await s.requests.save(b)
    t.equal(await s.requests.claimHrId(b), true, 'a failed request re-takes its free hrId')
  })

  t.test(`${name}: scheduled requests wait apart, come due in effective order, and start or end atomically`, async (t) => {
    const s = await make()
    t.teardown(() => s.close())
    const at = (day: number) => new Date(Date.UTC(2031, 0, day)).toISOString()
    const later = record({ hrId: 'S1', status: 'scheduled', effectiveAt: at(3) })
    const sooner = record({ hrId: 'S1', status: 'scheduled', effectiveAt: at(2) })
    const other = record({ hrId: 'S2', status: 'scheduled', effectiveAt: at(2) })
    for (const r of [later, sooner, other]) t.same(await s.requests.insert(r), { inserted: true }, 'several scheduled requests for one worker')
    t.equal(await s.requests.activeFor(later.clientId, 'S1'), undefined, 'a scheduled request holds no HR id')
    t.same(await s.requests.pending(at(30), 100), [], 'nor is it pending')
    t.same((await s.requests.list(later.clientId, { status: 'scheduled', limit: 10 })).items.length, 3, 'listed with its client')
    t.same((await s.requests.scheduledFor(later.clientId, 'S1', 10)).map((r) => r.id), [sooner.id, later.id], "one worker's, in effective order")
    t.same(await s.requests.scheduledFor('hris-other', 'S1', 10), [], 'per client')
    t.same(await s.requests.due(Date.parse(at(1)), 10), [], 'none due yet')
    t.same(new Set(await s.requests.due(Date.parse(at(2)), 10)), new Set([sooner.id, other.id]), 'due at their effective time')

    // Another request holds S1 when its turn comes: only the turn moves.
    const holder = record({ hrId: 'S1' })
    await s.requests.insert(holder)
    const starting = { ...sooner, status: 'accepted' as const, updatedAt: at(2) }
    t.same(await s.requests.unschedule(starting, Date.parse(at(2)) + 5000), { state: 'busy', holder: holder.id })
    t.equal((await s.requests.get(sooner.id))?.status, 'scheduled', 'unchanged')
    t.notOk((await s.requests.due(Date.parse(at(2)), 10)).includes(sooner.id), 'its turn moved')
    t.ok((await s.requests.due(Date.parse(at(2)) + 5000, 10)).includes(sooner.id))
    await s.requests.save({ ...holder, status: 'completed' })
    t.same(await s.requests.unschedule(starting, 0), { state: 'done' })
    t.equal(await s.requests.activeFor(sooner.clientId, 'S1'), sooner.id, 'a started request holds the HR id')
    t.ok((await s.requests.pending(at(30), 100)).includes(sooner.id), 'and is pending like any')
    t.same(await s.requests.unschedule({ ...starting, status: 'cancelled' }, 0), { state: 'gone' }, 'started: it cannot be cancelled')
    t.equal((await s.requests.get(sooner.id))?.status, 'accepted')

    t.same(await s.requests.unschedule({ ...later, status: 'cancelled' }, 0), { state: 'done' })
    t.same(await s.requests.unschedule({ ...later, status: 'accepted' }, 0), { state: 'gone' }, 'cancelled: it never starts')
    t.equal((await s.requests.get(later.id))?.status, 'cancelled')
    t.same(await s.requests.scheduledFor(later.clientId, 'S1', 10), [])
    t.same(await s.requests.due(Date.parse(at(30)), 10), [other.id])
  })

  t.test(`${name}: listing is newest first, filtered, and paged by cursor`, async (t) => {
    const s = await make()
    t.teardown(() => s.close())
    const made: ProvisioningRecord[] = []
    for (let i = 0; i < 7; i++) {
      const r = record({ clientId: 'lister', status: i % 2 === 0 ? 'completed' : 'accepted' })
      made.push(r)
      await s.requests.insert(r)
    }
    await s.requests.insert(record({ clientId: 'other' }))
    const newestFirst = [...made].reverse().map((r) => r.id)
    const page1 = await s.requests.list('lister', { limit: 3 })
    t.same(page1.items.map((r) => r.id), newestFirst.slice(0, 3))
    t.ok(page1.nextCursor)
    const page2 = await s.requests.list('lister', { limit: 3, cursor: page1.nextCursor })
    t.same(page2.items.map((r) => r.id), newestFirst.slice(3, 6))
    const page3 = await s.requests.list('lister', { limit: 3, cursor: page2.nextCursor })
    t.same(page3.items.map((r) => r.id), newestFirst.slice(6))
    t.equal(page3.nextCursor, undefined)
    const completed = await s.requests.list('lister', { limit: 10, status: 'completed' })
    t.same(completed.items.map((r) => r.id), made.filter((r) => r.status === 'completed').reverse().map((r) => r.id))
    const byHr = await s.requests.list('lister', { limit: 10, hrId: made[2]?.hrId })
    t.same(byHr.items.map((r) => r.id), [made[2]?.id])
    const after = await s.requests.list('lister', { limit: 10, createdAfter: made[4]?.createdAt })
    t.same(after.items.map((r) => r.id), [made[6]?.id, made[5]?.id])
  })

  t.test(`${name}: email reservations`, async (t) => {
    const s = await make()
    t.teardown(() => s.close())
    t.equal(await s.reservations.reserve('ada@example.com', 'prq_1', 60), 'prq_1')
    t.equal(await s.reservations.reserve('ada@example.com', 'prq_2', 60), 'prq_1', 'held by the first')
    t.equal(await s.reservations.reserve('Ada@Example.com', 'prq_3', 60), 'prq_1', 'addresses compare case-insensitively')
    t.equal(await s.reservations.holder('ADA@example.com'), 'prq_1', 'holder looks without reserving')
    t.equal(await s.reservations.holder('nobody@example.com'), undefined)
    t.equal(await s.reservations.reserve('ada@example.com', 'prq_1', 60), 'prq_1', 're-reserving by the holder succeeds')
    await s.reservations.release('ada@example.com', 'prq_2')
    t.equal(await s.reservations.reserve('ada@example.com', 'prq_2', 60), 'prq_1', 'only the holder releases')
    await s.reservations.release('ada@example.com', 'prq_1')
    t.equal(await s.reservations.reserve('ada@example.com', 'prq_2', 60), 'prq_2')
  })

  t.test(`${name}: worker registry, written with the ledger step`, async (t) => {
    const s = await make()
    t.teardown(() => s.close())
    const a = record({ hrId: 'E1' })
    await s.requests.insert(a)
    t.equal(await s.registry.get('hris-a', 'E1'), undefined)
    await s.requests.save({ ...a, status: 'provisioning' }, undefined, entry())
    t.same(await s.registry.get('hris-a', 'E1'), entry(), 'the entry lands with the record')
    t.same(await s.registry.ownerOf('u-1'), { clientId: 'hris-a', hrId: 'E1' })
    t.equal(await s.registry.get('hris-b', 'E1'), undefined, 'entries are scoped per client')
    t.equal(await s.registry.ownerOf('u-2'), undefined)

    await s.requests.save({ ...a, status: 'provisioning' }, undefined, entry({ grants: [{ roleId: 'r-1', divisionId: 'd-1' }] }))
    t.same((await s.registry.get('hris-a', 'E1'))?.grants, [{ roleId: 'r-1', divisionId: 'd-1' }], 'the owner updates its entry')

    const b = record({ hrId: 'E9', clientId: 'hris-b' })
    await s.requests.insert(b)
    const taken = { ...b, status: 'completed' as const }
    await t.rejects(s.requests.save(taken, undefined, entry({ clientId: 'hris-b', hrId: 'E9', externalId: 'hris-b:E9' })), { name: 'OwnedElsewhere' }, "another client cannot record A's user")
    t.equal((await s.requests.get(b.id))?.status, 'accepted', 'nothing of the refused step was written')
    t.equal(await s.registry.get('hris-b', 'E9'), undefined)
    await t.rejects(s.registry.put(entry({ hrId: 'E2' })), { name: 'OwnedElsewhere' }, 'nor another HR id of the same client')
    await s.registry.put(entry({ hrId: 'E3', genesysUserId: 'u-3' }))
    t.same(await s.registry.ownerOf('u-3'), { clientId: 'hris-a', hrId: 'E3' }, 'put records a new entry')
  })

  t.test(`${name}: worker registry lists one client's workers by HR id, filtered, in pages`, async (t) => {
    const s = await make()
    t.teardown(() => s.close())
    // 250 workers of hris-a (every third terminated, every fifth in BPO Beta), 3 of hris-b.
    const hrIds = Array.from({ length: 250 }, (_, i) => `E${String(i).padStart(3, '0')}`)
    for (const [i, hrId] of hrIds.entries()) {
      const beta = i % 5 === 0
      await s.registry.put(entry({ hrId, externalId: `hris-a:${hrId}`, genesysUserId: `u-${hrId}`, active: i % 3 !== 0, ...(beta ? { divisionId: 'd-2', divisionName: 'BPO Beta' } : {}) }))
    }
    for (const hrId of ['B1', 'B2', 'B3']) await s.registry.put(entry({ clientId: 'hris-b', hrId, externalId: `hris-b:${hrId}`, genesysUserId: `ub-${hrId}` }))
    const all = async (query: Omit<Parameters<WorkerRegistry['list']>[1], 'cursor'>) => {
      const seen: string[] = []
      let cursor: string | undefined
      for (let pages = 0; pages < 100; pages++) {
        const page = await s.registry.list('hris-a', { ...query, ...(cursor ? { cursor } : {}) })
        t.ok(page.items.length <= query.limit, 'never more than the limit')
        seen.push(...page.items.map((e) => e.hrId))
        cursor = page.nextCursor
        if (!cursor) break
      }
      return seen
    }
    t.same(await all({ limit: 40 }), hrIds, 'every worker once, in HR id order, across pages')
    t.same(await all({ limit: 7, status: 'terminated' }), hrIds.filter((_, i) => i % 3 === 0), 'status filter')
    t.same(await all({ limit: 1000, division: 'bpo beta' }), hrIds.filter((_, i) => i % 5 === 0), 'division by name, case-insensitive')
    t.same(await all({ limit: 1000, division: 'd-2', status: 'active' }), hrIds.filter((_, i) => i % 5 === 0 && i % 3 !== 0), 'division by id, with status')
    t.same((await s.registry.list('hris-b', { limit: 10 })).items.map((e) => e.hrId), ['B1', 'B2', 'B3'], 'another client sees only its own')
    t.same(await s.registry.list('hris-c', { limit: 10 }), { items: [] })
    const a = record({ hrId: 'E999' })
    await s.requests.insert(a)
    await s.requests.save({ ...a, status: 'provisioning' }, undefined, entry({ hrId: 'E999', genesysUserId: 'u-E999' }))
    t.same((await s.registry.list('hris-a', { limit: 1, cursor: Buffer.from('E998').toString('base64url') })).items.map((e) => e.hrId), ['E999'], 'an entry written with a ledger step is listed too')
  })

  t.test(`${name}: the mass-change window counts the workers one client changed within the window`, async (t) => {
    const s = await make()
    t.teardown(() => s.close())
    const hour = 3600_000
    const t0 = 1_800_000_000_000
    t.equal(await s.changes.add('hris-a', 'E1', t0, hour), 1)
    t.equal(await s.changes.add('hris-a', 'E2', t0 + 1000, hour), 2)
    t.equal(await s.changes.add('hris-a', 'E2', t0 + 2000, hour), 2, 'a worker moved, then terminated, is one worker changed')
    t.equal(await s.changes.add('hris-b', 'E3', t0 + 2000, hour), 1, 'per client')
    t.equal(await s.changes.add('hris-a', 'E4', t0 + hour + 500, hour), 2, 'changes older than the window drop out (E2 was counted again at its latest change)')
  })

  t.test(`${name}: the shared directory cache keeps found names and misses for their TTL; clear drops all`, async (t) => {
    const s = await make()
    t.teardown(() => s.close())
    t.equal(await s.directory.get('role:Agent'), undefined)
    await s.directory.set('role:Agent', { found: true, value: { id: 'r1', permissionPolicies: [{ domain: 'routing', actionSet: ['*'] }] } }, 60_000)
    await s.directory.set('role:Nope', { found: false }, 60_000)
    t.same(await s.directory.get('role:Agent'), { found: true, value: { id: 'r1', permissionPolicies: [{ domain: 'routing', actionSet: ['*'] }] } }, 'round trip')
    t.same(await s.directory.get('role:Nope'), { found: false }, 'a miss is an entry too')
    await s.directory.set('group:brief', { found: true, value: 'x' }, 30)
    await new Promise((resolve) => setTimeout(resolve, 60))
    t.equal(await s.directory.get('group:brief'), undefined, 'expired')
    await s.directory.clear()
    t.equal(await s.directory.get('role:Agent'), undefined, 'cleared')
    t.equal(await s.directory.get('role:Nope'), undefined)
  })

  t.test(`${name}: idempotency keys`, async (t) => {
    const s = await make()
    t.teardown(() => s.close())
    const response = { status: 202, headers: { location: '/v1/provisioning-requests/prq_1' }, body: { id: 'prq_1' } }
    t.same(await s.idempotency.begin('c1', 'k1', 'fp-a', 60), { state: 'new' })
    t.same(await s.idempotency.begin('c1', 'k1', 'fp-a', 60), { state: 'in-flight' })
    t.same(await s.idempotency.begin('c1', 'k1', 'fp-b', 60), { state: 'mismatch' })
    t.same(await s.idempotency.begin('c2', 'k1', 'fp-b', 60), { state: 'new' }, 'keys are scoped per client')
    await s.idempotency.complete('c1', 'k1', 'fp-a', response, 3600)
    t.same(await s.idempotency.begin('c1', 'k1', 'fp-a', 60), { state: 'replay', response })
    t.same(await s.idempotency.begin('c1', 'k1', 'fp-b', 60), { state: 'mismatch' })
    await s.idempotency.abandon('c1', 'k1')
    t.same(await s.idempotency.begin('c1', 'k1', 'fp-a', 60), { state: 'replay', response }, 'a completed key is not abandoned')
    await s.idempotency.abandon('c2', 'k1')
    t.same(await s.idempotency.begin('c2', 'k1', 'fp-a', 60), { state: 'new' }, 'an in-flight key is freed by abandon')
  })
}

/** Redis only: the upgrade step that indexes registry entries written before the worker list existed. */
function upgradeContract (t: Tap, name: string, make: () => Promise<Stores & { close (): Promise<void> }>): void {
  t.test(`${name}: upgrading: entries written before the worker index are indexed by npm run redis:index-workers`, async (t) => {
    const s = await make()
    t.teardown(() => s.close())
    const upgrade = s.upgrade
    if (!upgrade) throw new Error('a Redis twin rebuilds its index')
    for (const hrId of ['U1', 'U2', 'U3']) await s.registry.put(entry({ hrId, externalId: `hris-a:${hrId}`, genesysUserId: `u-${hrId}` }))
    await s.registry.put(entry({ clientId: 'hris-b', hrId: 'B1', externalId: 'hris-b:B1', genesysUserId: 'u-B1' }))
    await upgrade.dropIndex('hris-a')
    t.same((await s.registry.list('hris-a', { limit: 10 })).items, [], 'without the index the list is empty')
    t.same(await upgrade.reindex(), { entries: 4, clients: 2 })
    t.same((await s.registry.list('hris-a', { limit: 10 })).items.map((e) => e.hrId), ['U1', 'U2', 'U3'], 'every entry listed again')
    t.same(await upgrade.reindex(), { entries: 4, clients: 2 }, 'running it again changes nothing')
    t.equal(await s.registry.count('hris-a'), 3)
  })

}

contract(t, 'memory', async () => {
  const clock = { now: () => Date.now() }
  const registry = createMemoryWorkerRegistry()
  return { requests: createMemoryRequestStore({ registry }), reservations: createMemoryEmailReservations(clock), idempotency: createMemoryIdempotencyStore(clock), registry, changes: createMemoryChangeWindow(), directory: createMemoryDirectoryCache(clock), close: async () => {} }
})

type Made = Stores & { close (): Promise<void> }

redisTwin<Made>(t, (t, name, make) => { contract(t, name, make); upgradeContract(t, name, make) }, (redis) => ({
  requests: createRedisRequestStore(redis),
  reservations: createRedisEmailReservations(redis),
  idempotency: createRedisIdempotencyStore(redis),
  registry: createRedisWorkerRegistry(redis),
  changes: createRedisChangeWindow(redis),
  directory: createRedisDirectoryCache(redis, 'contract', { now: Date.now }),
  upgrade: {
    dropIndex: async (clientId) => { await redis.del(provisioningKeys.workerIndex(clientId)) },
    reindex: () => indexRegistryEntries(redis instanceof Cluster ? redis.nodes('master') : [redis]),
  },
  close: async () => {},
}))
