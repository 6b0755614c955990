/** Redis did not answer in time or refused: callers fall back to in-process behaviour. */
export class RedisUnavailable extends Error {
  constructor (message: string, opts?: { cause?: unknown }) {
    super(message, opts)
    this.name = 'RedisUnavailable'
  }
}

export interface WarnLogger {
  warn (obj: object, msg: string): void
}

/**
 * Bounds one Redis call. ioredis waits ~10 s when Redis is down and forever when
 * it hangs (SIGSTOP) unless told otherwise; request paths never wait on that.
 *
 * When the bound expires, pending I/O is read first (`setImmediate` runs after
 * the poll phase): an answer that arrived while the event loop was busy (a
 * startup compiling routes, a long synchronous task) is an answer, not an outage.
 */
export async function bounded<T> (p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  let later: NodeJS.Immediate | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      later = setImmediate(() => reject(new RedisUnavailable(`Redis did not answer within ${ms} ms`)))
    }, ms)
  })
  try {
    return await Promise.race([p, timeout])
  } catch (err) {
    if (err instanceof RedisUnavailable) throw err
    throw new RedisUnavailable(err instanceof Error ? err.message : String(err), { cause: err })
  } finally {
    clearTimeout(timer)
    clearImmediate(later)
    // The losing promise may still reject later; that must not surface as unhandled.
    p.catch(() => {})
  }
}
