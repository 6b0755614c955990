import t from 'tap'
import type { WorkerDesired } from '../../src/provisioning/model.js'
import type { ProvisioningRecord } from '../../src/provisioning/ports.js'
import { createBatchService, RECHECK_MS, type Desire } from '../../src/batches/service.js'
import { createMemoryBatchStore } from '../../src/batches/store/memory.js'

const CLIENT = { id: 'hris', name: 'HRIS', scopes: ['provisioning:write' as const], divisions: '*' as const }
const desired = (email: string): WorkerDesired => ({ email, givenName: 'G', familyName: 'F' })

/** A batch service whose lifecycle accepts every record as a hire, and whose requests end when the test says. */
function setup () {
  let now = Date.UTC(2026, 11, 7, 10)
  const clock = { now: () => now }
  const statuses = new Map<string, ProvisioningRecord['status']>()
  let seq = 0
  const desire: Desire = async (_client, _hrId) => {
    // Each record takes a moment, as with a real store: intakes overlap when they can.
    await new Promise((resolve) => setTimeout(resolve, 1))
    const id = `prq_${String(++seq).padStart(26, '0')}`
    statuses.set(id, 'accepted')
    return { outcome: { kind: 'accepted', requestId: id, change: 'hire' }, response: { status: 202, headers: {}, body: { id, kind: 'hire' } }, replayed: false, fingerprint: 'f' }
  }
  const completed: string[] = []
  const store = createMemoryBatchStore({ now: clock.now })
  const service = createBatchService({
    store,
    desire,
    requests: { get: async (id) => (statuses.has(id) ? { status: statuses.get(id) } as ProvisioningRecord : undefined) },
    clock,
    onCompleted: (b) => { completed.push(b.id) },
  })
  const accept = async (n: number) => (await service.accept(CLIENT, Array.from({ length: n }, (_, i) => ({ index: i, hrId: `H${seq}-${i}`, desired: desired(`p${seq}.${i}@example.com`) })), { dryRun: false, body: { n, seq } })).batch
  return { service, store, statuses, completed, accept, advance: (ms: number) => { now += ms } }
}

t.test('the sweep takes the open batches in turn: one waiting for long-running requests never hides a finished one', async (t) => {
  const s = setup()
  const a = await s.accept(1)
  s.advance(1)
  const b = await s.accept(1)
  s.advance(1)
  const c = await s.accept(1)
  // C's request ended, but its notice was lost (a crash): only the sweep can complete it.
  s.statuses.set(c.results[0]?.requestId ?? '', 'completed')
  t.equal(await s.service.sweep(1), 0, 'A is due first, and still running')
  t.equal(await s.service.sweep(1), 0, 'then B, still running')
  t.equal(await s.service.sweep(1), 1, 'then C: completed')
  t.same(s.completed, [c.id])
  t.equal(await s.service.sweep(10), 0, 'A and B are not due again yet')
  s.advance(RECHECK_MS)
  s.statuses.set(a.results[0]?.requestId ?? '', 'failed')
  t.equal(await s.service.sweep(10), 1, 'a minute on, both are checked again: A is over')
  t.same(s.completed, [c.id, a.id])
  t.equal((await s.service.get(CLIENT, b.id)).status, 'accepted')
})

t.test('a terminal notice completes the batch with its last request, once', async (t) => {
  const s = setup()
  const batch = await s.accept(3)
  const ids = batch.results.map((r) => r.requestId ?? '')
  s.statuses.set(ids[0] ?? '', 'completed')
  await s.service.settle({ id: ids[0] ?? '', batchId: batch.id })
  t.same(s.completed, [], 'two still running')
  for (const id of ids.slice(1)) s.statuses.set(id, 'completed')
  await Promise.all([s.service.settle({ id: ids[1] ?? '', batchId: batch.id }), s.service.settle({ id: ids[2] ?? '', batchId: batch.id }), s.service.settle({ id: ids[2] ?? '', batchId: batch.id })])
  t.same(s.completed, [batch.id], 'completed once, however many notices arrive')
  t.same((await s.service.get(CLIENT, batch.id)).finalCounts, { completed: 3, failed: 0, pending: 0 })
})

t.test('two intakes of one keyed batch never run at once: the second is told to wait (409), and a retry after it replays the batch', async (t) => {
  const s = setup()
  const entries = Array.from({ length: 20 }, (_, i) => ({ index: i, hrId: `K${i}`, desired: desired(`k${i}@example.com`) }))
  const opts = { dryRun: false, idempotencyKey: 'roster-1', body: { roster: 1 } }
  const [first, second] = await Promise.allSettled([s.service.accept(CLIENT, entries, opts), s.service.accept(CLIENT, entries, opts)])
  t.equal(first.status, 'fulfilled')
  t.match(second, { status: 'rejected', reason: { code: 'PROV_ERR_IDEMPOTENCY_IN_FLIGHT', status: 409 } })
  const again = await s.service.accept(CLIENT, entries, opts)
  t.equal(again.replayed, true)
  t.equal(again.batch.id, first.status === 'fulfilled' ? first.value.batch.id : '')
  t.equal(again.batch.counts.accepted, 20, 'each record taken in once')
})
