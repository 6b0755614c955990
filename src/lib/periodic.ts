import type { FastifyBaseLogger } from 'fastify'
import { asError } from './failure-log.js'
import { realTimers, type Timer, type Timers } from './timers.js'

/**
 * Runs `task` every `intervalMs`, never two at once; a failure is logged and
 * the next tick tries again. `stop()` waits for a run in progress. The ticks
 * never keep the process alive.
 */
export function periodic (task: () => Promise<unknown>, opts: { intervalMs: number, logger: FastifyBaseLogger, what: string, timers?: Timers }) {
  const timers = opts.timers ?? realTimers
  let timer: Timer | undefined
  let running: Promise<void> | undefined
  function tick (): void {
    arm()
    running ??= task()
      .then(() => undefined, (err: unknown) => { opts.logger.warn({ err: asError(err) }, `${opts.what} failed`) })
      .finally(() => { running = undefined })
  }
  function arm (): void {
    timer = timers.setTimeout(tick, opts.intervalMs)
    timer.unref()
  }
  return {
    start () {
      timers.clearTimeout(timer)
      arm()
    },
    async stop () {
      timers.clearTimeout(timer)
      timer = undefined
      await running
    },
  }
}
