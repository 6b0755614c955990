import t from 'tap'
import { createReferenceCache } from '../../src/provisioning/facts.js'

t.test('reference cache: one load per TTL, shared by concurrent callers; misses and errors not kept; clear() forgets', async (t) => {
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
  cache.clear()
  await cache('role:Agent', load)
  t.equal(loads, 3, 'cleared after an upstream 404: loaded again')
  let misses = 0
  await cache('role:Nope', async () => { misses++; return undefined })
  await cache('role:Nope', async () => { misses++; return undefined })
  t.equal(misses, 2, 'a miss is never cached (a role created a second ago must be found)')
  await t.rejects(cache('role:Err', async () => { throw new Error('down') }))
  t.same(await cache('role:Err', async () => ({ id: 'r2' })), { id: 'r2' }, 'an error is not cached')
})
