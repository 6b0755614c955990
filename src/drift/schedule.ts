import type { FastifyBaseLogger } from 'fastify'
import { periodic } from '../lib/periodic.js'
import type { Clock, Timers } from '../lib/timers.js'
import type { DriftService } from './service.js'

/**
 * Starts a run over every client each `everyMinutes`. The run's id is the
 * interval's number, so the replicas of a fleet start the same run once; a
 * process leaves the interval it started in to the replicas already running
 * (a restart does not start one).
 */
export function scheduleRuns (opts: { service: Pick<DriftService, 'start'>, everyMinutes: number, clock: Clock, logger: FastifyBaseLogger, timers?: Timers }) {
  const everyMs = opts.everyMinutes * 60_000
  const slotOf = () => Math.floor(opts.clock.now() / everyMs)
  const startSlot = slotOf()
  return periodic(async () => {
    const slot = slotOf()
    if (slot !== startSlot) await opts.service.start('*', { id: `rcn_every${opts.everyMinutes}m_${slot}` })
  }, { intervalMs: Math.min(everyMs, 60_000), logger: opts.logger, what: 'reconciliation schedule', ...(opts.timers ? { timers: opts.timers } : {}) })
}
