import type { FastifyBaseLogger } from 'fastify'
import { asError } from './failure-log.js'

/**
 * Runs `task` every `intervalMs`, never two at once; a failure is logged and
 * the next tick tries again. `stop()` waits for a run in progress.
 */
export function periodic (task: () => Promise<unknown>, opts: { intervalMs: number, logger: FastifyBaseLogger, what: string }) {
  let timer: NodeJS.Timeout | undefined
  let running: Promise<void> | undefined
  return {
    start () {
      timer = setInterval(() => {
        running ??= task()
          .then(() => undefined, (err: unknown) => { opts.logger.warn({ err: asError(err) }, `${opts.what} failed`) })
          .finally(() => { running = undefined })
      }, opts.intervalMs)
      timer.unref()
    },
    async stop () {
      clearInterval(timer)
      await running
    },
  }
}
