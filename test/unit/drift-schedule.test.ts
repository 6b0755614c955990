import { pino } from 'pino'
import t from 'tap'
import { scheduleRuns } from '../../src/drift/schedule.js'
import { createDriftService } from '../../src/drift/service.js'
import { createMemoryDriftStore } from '../../src/drift/store/memory.js'
import { createMemoryWorkerRegistry } from '../../src/provisioning/store/memory.js'
import { createFakeTimers } from '../helpers/fake-timers.js'

t.test('the schedule: one run per interval for a fleet of replicas, none in the interval a process started in', async (t) => {
  const start = Date.UTC(2026, 11, 8, 10, 0, 30)
  const timers = createFakeTimers(start)
  const clock = { now: () => timers.now() }
  const store = createMemoryDriftStore()
  const queued: string[] = []
  const replica = () => createDriftService({
    store, registry: createMemoryWorkerRegistry(), clock, mode: 'report',
    genesysFor: () => { throw new Error('not run here') },
    clients: () => [], client: () => undefined,
    queue: { enqueue: async (id) => { queued.push(id) } },
    pace: async () => {}, restore: async () => undefined,
  })
  const logger = pino({ enabled: false })
  // Two replicas sharing one store, on a 60-minute interval.
  const ticks = [replica(), replica()].map((service) => scheduleRuns({ service, everyMinutes: 60, clock, logger, timers }))
  for (const tick of ticks) tick.start()
  await timers.advance(30 * 60_000)
  t.same(queued, [], 'nothing in the interval the replicas started in')
  await timers.advance(31 * 60_000)
  const slot = Math.floor(Date.UTC(2026, 11, 8, 11, 1, 30) / 3_600_000)
  t.same(queued, [`rcn_every60m_${slot}`], 'the next interval: one run, started once for both replicas')
  await timers.advance(30 * 60_000)
  t.same(queued.length, 1, 'and not again within it')
  await timers.advance(31 * 60_000)
  t.same(queued, [`rcn_every60m_${slot}`, `rcn_every60m_${slot + 1}`], 'one per interval')
  for (const tick of ticks) await tick.stop()
})
