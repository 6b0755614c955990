import { RateBudgetExceeded, type RateBudget } from './ports.js'

export interface RateBudgetOptions {
  perMinute: number
  /** Requests that may go at once after a quiet spell; default max(1, perMinute / 30). */
  burst?: number
  /** Epoch ms (memory twin only; the Redis twin uses Redis's clock). */
  clock?: () => number
  onEvent?: (e: 'wait' | 'paused' | 'exceeded') => void
}

export interface Gcra {
  /** Emission interval: ms between requests at the sustained rate. */
  intervalMs: number
  /** Burst tolerance: how far ahead of the schedule a request may go. */
  tauMs: number
}

/**
 * GCRA parameters that never put more than `perMinute` requests in any 60 s
 * window, which is how Genesys counts. A GCRA allows at most B + W/T requests
 * in a window W, so the sustained rate gives up what the burst takes, plus one
 * slot of slack for requests that arrive closer together than they were sent:
 * T = 60 s / (perMinute − B). With 300/min that is a burst of 10 and 290/min.
 */
export function gcraFor (perMinute: number, burst?: number): Gcra {
  const b = Math.max(1, Math.min(burst ?? Math.floor(perMinute / 30), perMinute - 1))
  const sustained = Math.max(1, perMinute - b)
  const intervalMs = 60_000 / sustained
  return { intervalMs, tauMs: (b - 1) * intervalMs }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** In-process twin for one replica (embedded mode, or while Redis is unreachable). */
export function createMemoryRateBudget (opts: RateBudgetOptions): RateBudget {
  const clock = opts.clock ?? Date.now
  const event = opts.onEvent ?? (() => {})
  const { intervalMs, tauMs } = gcraFor(opts.perMinute, opts.burst)
  let tat = 0
  let pausedUntil = 0

  return {
    async acquire ({ maxWaitMs = 30_000 } = {}) {
      const deadline = clock() + maxWaitMs
      for (;;) {
        const now = clock()
        if (pausedUntil > now) {
          const wait = pausedUntil - now
          if (now + wait > deadline) {
            event('exceeded')
            throw new RateBudgetExceeded(wait)
          }
          event('paused')
          await sleep(wait)
          continue
        }
        const at = Math.max(tat, now)
        const wait = Math.max(0, at - tauMs - now)
        if (now + wait > deadline) {
          event('exceeded')
          throw new RateBudgetExceeded(wait)
        }
        // Reserve the slot now: callers queue fairly instead of racing for it.
        tat = at + intervalMs
        if (wait > 0) {
          event('wait')
          await sleep(wait)
        }
        return
      }
    },
    async pause (ms) {
      pausedUntil = Math.max(pausedUntil, clock() + ms)
    },
    async close () {},
  }
}
