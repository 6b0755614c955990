import type { FastifyBaseLogger } from 'fastify'
import { periodic } from '../lib/periodic.js'
import type { ProvisioningQueue, RequestStore } from './ports.js'
import type { Clock } from '../lib/timers.js'

/**
 * The outbox half of "store the record and enqueue its job": a record that is
 * not terminal and has not moved for a while gets its job enqueued again. The
 * job id de-duplicates, so a job that is still queued or running is untouched;
 * one lost to a crash between insert and enqueue (or to a Redis failover) runs.
 */
export function createDispatcher (deps: {
  requests: Pick<RequestStore, 'pending' | 'get'>
  queue: ProvisioningQueue
  clock: Clock
  logger: FastifyBaseLogger
  /** A record untouched this long is considered possibly orphaned. */
  staleAfterMs: number
  intervalMs: number
}) {
  async function sweep (): Promise<number> {
    const olderThan = new Date(deps.clock.now() - deps.staleAfterMs).toISOString()
    const ids = await deps.requests.pending(olderThan, 500)
    let enqueued = 0
    for (const id of ids) {
      const record = await deps.requests.get(id)
      if (!record) continue
      await deps.queue.enqueue(record)
      enqueued++
    }
    if (enqueued > 0) deps.logger.info({ enqueued }, 'dispatcher re-enqueued pending requests')
    return enqueued
  }

  return { sweep, ...periodic(sweep, { intervalMs: deps.intervalMs, logger: deps.logger, what: 'dispatcher sweep' }) }
}
