import type { FastifyBaseLogger } from 'fastify'

/**
 * Logs a recurring failure once per interval instead of once per occurrence.
 * An outage (Redis refusing every reconnect, every queue's connection failing
 * the same way) is one line with the real error, then one line per interval
 * saying how often it repeated; a different failure is logged at once.
 */
export interface FailureLog {
  /** `what` names the thing that failed; the error's message distinguishes failures. */
  report (what: string, err: unknown, fields?: Record<string, unknown>): void
  /** Forgets the failures of `what` (it recovered): the next one is logged at once. */
  recovered (what: string): void
}

export function createFailureLog (logger: Pick<FastifyBaseLogger, 'warn' | 'error' | 'info'>, opts: { intervalMs: number, now?: () => number, level?: 'warn' | 'error' }): FailureLog {
  const now = opts.now ?? Date.now
  const level = opts.level ?? 'error'
  const seen = new Map<string, { what: string, loggedAt: number, repeats: number }>()
  return {
    report (what, err, fields = {}) {
      const message = err instanceof Error ? err.message : String(err)
      const key = `${what}\u0000${message}`
      const entry = seen.get(key)
      const t = now()
      if (entry && t - entry.loggedAt < opts.intervalMs) {
        entry.repeats += 1
        return
      }
      const repeats = entry?.repeats ?? 0
      seen.set(key, { what, loggedAt: t, repeats: 0 })
      logger[level]({ err: asError(err), ...fields, ...(repeats > 0 ? { repeatedSinceLastLine: repeats } : {}) }, what)
    },
    recovered (what) {
      let had = false
      for (const [key, entry] of seen) {
        if (entry.what === what) { seen.delete(key); had = true }
      }
      if (had) logger.info(`${what}: recovered`)
    },
  }
}

/**
 * The loggable form of anything thrown: a real Error (pino serializes type,
 * message and stack only for those; a plain `{ message }` came out as
 * `{"type":"Object","stack":""}`) carrying only name, message, code and stack.
 * Foreign errors can hold more (ioredis keeps the failed command's arguments),
 * and those properties stay out of the log.
 */
export function asError (err: unknown): Error {
  const source = err !== null && typeof err === 'object' ? err as { name?: unknown, message?: unknown, stack?: unknown, code?: unknown } : undefined
  const e = new Error(typeof source?.message === 'string' ? source.message : String(err))
  if (typeof source?.name === 'string') e.name = source.name
  if (typeof source?.code === 'string') Object.assign(e, { code: source.code })
  e.stack = typeof source?.stack === 'string' && source.stack !== '' ? source.stack : `${e.name}: ${e.message}`
  return e
}
