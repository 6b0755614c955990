import t from 'tap'
import { CallLimitExceeded, chargeCall, withCallLimit } from '../../src/genesys/call-limit.js'
import { createReferenceCache, MISS_TTL_MS } from '../../src/provisioning/facts.js'
import { createMemoryDirectoryCache } from '../../src/provisioning/store/memory.js'

t.test('reference cache: one load per TTL, shared by concurrent callers; misses kept briefly, errors not; clear() forgets', async (t) => {
  let now = 0
  const cache = createReferenceCache({ now: () => now }, 60_000)
  let loads = 0
  const load = async () => { loads++; await new Promise((resolve) => setTimeout(resolve, 5)); return { id: 'r1' } }
  const results = await Promise.all(Array.from({ length: 20 }, () => cache('role:Agent', load)))
  t.equal(loads, 1, '20 concurrent lookups, one load')
  t.same(results[19], { id: 'r1' })
  now = 59_999
  await cache('role:Agent', load)
  t.equal(loads, 1, 'still fresh')
  now = 60_000
  await cache('role:Agent', load)
  t.equal(loads, 2, 'expired: loaded again')
  await cache.clear()
  await cache('role:Agent', load)
  t.equal(loads, 3, 'cleared after an upstream 404: loaded again')
  let misses = 0
  const miss = async () => { misses++; return undefined }
  await cache('role:Nope', miss)
  await cache('role:Nope', miss)
  t.equal(misses, 1, 'a miss is kept for a moment')
  now += MISS_TTL_MS
  await cache('role:Nope', miss)
  t.equal(misses, 2, `and looked up again after ${MISS_TTL_MS} ms (a role created meanwhile is found)`)
  await t.rejects(cache('role:Err', async () => { throw new Error('down') }))
  t.same(await cache('role:Err', async () => ({ id: 'r2' })), { id: 'r2' }, 'an error is not cached')
})

t.test('a shared cache: what one replica found serves the others; a miss too, briefly; clear() clears it for all', async (t) => {
  let now = 0
  const clock = { now: () => now }
  const shared = createMemoryDirectoryCache(clock)
  const [a, b] = [createReferenceCache(clock, 60_000, shared), createReferenceCache(clock, 60_000, shared)]
  let loads = 0
  const load = async () => { loads++; return { id: 'r1', name: 'Agent' } }
  t.same(await a('role:Agent', load), { id: 'r1', name: 'Agent' })
  t.same(await b('role:Agent', load), { id: 'r1', name: 'Agent' }, 'the other replica gets it')
  t.equal(loads, 1, 'one Genesys read for both')
  let misses = 0
  await a('role:Nope', async () => { misses++; return undefined })
  t.equal(await b('role:Nope', async () => { misses++; return { id: 'late' } }), undefined, 'the miss is shared')
  t.equal(misses, 1)
  now += MISS_TTL_MS
  t.same(await b('role:Nope', async () => { misses++; return { id: 'late' } }), { id: 'late' }, 'briefly')
  await a.clear()
  now += 1
  t.equal(await shared.get('role:Agent'), undefined, 'cleared for the fleet')
  const broken = { get: async () => { throw new Error('down') }, set: async () => { throw new Error('down') }, clear: async () => { throw new Error('down') } }
  const c = createReferenceCache(clock, 60_000, broken)
  t.same(await c('role:Agent', load), { id: 'r1', name: 'Agent' }, 'an unreachable shared cache is passed by')
  await c.clear()
  const off = createReferenceCache(clock, 0, shared)
  await off('role:Agent', load)
  await off('role:Agent', load)
  t.equal(loads, 4, 'TTL 0: every lookup reads Genesys, the shared cache is not used')
})

t.test('a lookup shared with work that ran out of Genesys calls is loaded again by the caller that still may call', async (t) => {
  const cache = createReferenceCache({ now: Date.now }, 60_000)
  let sent = 0
  const load = async () => { chargeCall('roles.byName'); sent++; await new Promise((resolve) => setTimeout(resolve, 5)); return { id: 'r1' } }
  // The capped work starts the load; the other joins it before it fails.
  const capped = withCallLimit(0, () => cache('role:Agent', load))
  const other = cache('role:Agent', load)
  await t.rejects(capped, CallLimitExceeded, 'the capped work is refused its call')
  t.same(await other, { id: 'r1' }, 'the other caller gets the role, from its own load')
  t.equal(sent, 1, 'one call went out, the other caller\'s')
})
