/**
 * Genesys' per-token budget: at most `limit` requests in any 60 s window. A
 * sliding log (one timestamp per counted request) gives the exact
 * `Retry-After`: the seconds until the oldest counted request leaves the window.
 */
export interface RateLimiter {
  /** Counts a request for `key`; when over budget, nothing is counted and the wait is returned. */
  hit (key: string): { ok: true } | { ok: false, retryAfterSeconds: number }
  reset (): void
}

export function createRateLimiter (limit: number, windowMs: number, clock: () => number): RateLimiter {
  const logs = new Map<string, number[]>()
  return {
    hit (key) {
      const now = clock()
      let log = logs.get(key)
      if (log === undefined) {
        log = []
        logs.set(key, log)
      }
      let drop = 0
      while (drop < log.length && (log[drop] ?? 0) <= now - windowMs) drop++
      if (drop > 0) log.splice(0, drop)
      if (log.length >= limit) {
        const oldest = log[0] ?? now
        return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((oldest + windowMs - now) / 1000)) }
      }
      log.push(now)
      return { ok: true }
    },
    reset () {
      logs.clear()
    },
  }
}
