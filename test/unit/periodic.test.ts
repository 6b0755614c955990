import t from 'tap'
import { periodic } from '../../src/lib/periodic.js'
import { createDispatcher } from '../../src/provisioning/dispatcher.js'
import type { ProvisioningRecord } from '../../src/provisioning/ports.js'
import { createMemoryRequestStore } from '../../src/provisioning/store/memory.js'
import { captureLogs } from '../helpers/app.js'
import { createFakeTimers } from '../helpers/fake-timers.js'

t.test('periodic: one run at a time, failures logged, stop waits for the run in progress', async (t) => {
  const logs = captureLogs()
  const timers = createFakeTimers()
  let runs = 0
  let active = 0
  let overlap = false
  // Each run lasts until the test finishes it.
  const finishers: Array<() => void> = []
  const finish = async () => { finishers.shift()?.(); await timers.advance(0) }
  const p = periodic(async () => {
    runs++
    active++
    if (active > 1) overlap = true
    await new Promise<void>((resolve) => finishers.push(resolve))
    active--
    if (runs === 2) throw new Error('boom')
  }, { intervalMs: 5, logger: logs.logger, what: 'test task', timers })
  p.start()
  await timers.advance(4)
  t.equal(runs, 0, 'nothing before the first interval')
  await timers.advance(1)
  t.equal(runs, 1, 'the first run at the first tick')
  await timers.advance(50)
  t.equal(runs, 1, 'ten ticks while it runs start nothing')
  await finish()
  await timers.advance(5)
  t.equal(runs, 2, 'the next tick after it ended runs again')
  await finish() // the second run fails
  t.ok(logs.parsed().some((l) => l.msg === 'test task failed' && (l.err as { message?: string }).message === 'boom'))
  await timers.advance(5)
  t.equal(runs, 3, 'and a failure does not stop the ticks')
  t.notOk(overlap, 'never two at once')
  const stopped = p.stop()
  let done = false
  void stopped.then(() => { done = true })
  await timers.advance(0)
  t.notOk(done, 'stop waits for the run in progress')
  await finish()
  await stopped
  t.equal(active, 0, 'stop waited for the last run')
  t.equal(timers.pending(), 0, 'no tick left behind')
  await timers.advance(1000)
  t.equal(runs, 3, 'nothing runs after stop')
})

t.test('dispatcher: a stale non-terminal request gets its job again; fresh and terminal ones do not', async (t) => {
  const requests = createMemoryRequestStore()
  const at = (ms: number) => new Date(ms).toISOString()
  const now = Date.parse('2026-11-22T10:00:00.000Z')
  const base = (id: string, status: ProvisioningRecord['status'], updated: number): ProvisioningRecord => ({
    id, clientId: 'c', hrId: id, email: `${id}@example.com`, status, hire: { hrId: id, email: `${id}@example.com` },
    createdAt: at(updated), updatedAt: at(updated), transitions: [], steps: [], attempts: 0, retries: id === 'stale-retried' ? 2 : 0,
  })
  for (const r of [base('stale', 'accepted', now - 120_000), base('stale-retried', 'provisioning', now - 90_000), base('fresh', 'accepted', now - 1000), base('done', 'completed', now - 300_000)]) {
    await requests.insert(r)
    await requests.save(r)
  }
  const enqueued: string[] = []
  const d = createDispatcher({ requests, queue: { enqueue: async (r) => { enqueued.push(`${r.id}/${r.retries}`) } }, clock: { now: () => now }, logger: captureLogs().logger, staleAfterMs: 60_000, intervalMs: 1000 })
  t.equal(await d.sweep(), 2)
  t.same(enqueued.sort(), ['stale-retried/2', 'stale/0'])
})
