import { RateBudgetExceeded, type RateBudget } from '../ports.js'

export type RateBudgetEvent = 'wait' | 'paused' | 'exceeded'

export interface RateBudgetOptions {
  perMinute: number
  /** Requests that may go at once after a quiet spell; default max(1, floor(perMinute / 30)). */
  burst?: number
  /** Epoch ms (memory twin only; the Redis twin uses Redis's clock). */
  clock?: () => number
  onEvent?: (e: RateBudgetEvent) => void
  /** How the memory twin waits; replaced in tests that drive a fake clock. */
  sleep?: (ms: number) => Promise<void>
}

export interface Gcra {
  /** Emission interval T: ms between requests at the sustained rate. */
  intervalMs: number
  /** Burst tolerance tau = (B − 1)·T: how far ahead of the schedule a request may go. */
  tauMs: number
  /** B: requests that may go at once from idle. */
  burst: number
}

/**
 * GCRA parameters that never put more than `perMinute` requests in any 60 s
 * window, which is how Genesys counts (per token, sliding minute).
 *
 * With tolerance tau = (B − 1)·T, the n-th request of a run can go no earlier
 * than (n − 1)·T − tau = (n − B)·T after the first, so a window of length
 * W holds at most B + W/T − 1 requests (the one exactly W after the first
 * belongs to the next window). Choosing T = 60 s / (perMinute − B − S + 1) makes
 * that perMinute − S, where the slack S ≈ 1 % of the limit absorbs requests that
 * arrive closer together than they were granted: the burst and the slack are
 * paid for by a slightly slower sustained rate (300/min: burst 10, then 288/min).
 */
export function gcraFor (perMinute: number, burst?: number): Gcra {
  const limit = Math.max(1, Math.floor(perMinute))
  const b = Math.min(limit, Math.max(1, Math.floor(burst ?? limit / 30)))
  // Slack of about 1 % of the limit (at least one slot): requests granted T apart
  // can reach Genesys closer together (event-loop stalls, network jitter), and a
  // window there would then hold more than it did here.
  const slack = Math.max(1, Math.ceil(limit / 100))
  const intervalMs = 60_000 / Math.max(1, limit - b - slack + 1)
  return { intervalMs, tauMs: (b - 1) * intervalMs, burst: b }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** In-process twin for one replica (embedded mode, or while Redis is unreachable). */
export function createMemoryRateBudget (opts: RateBudgetOptions): RateBudget {
  const clock = opts.clock ?? Date.now
  const wait = opts.sleep ?? sleep
  const event = opts.onEvent ?? (() => {})
  const { intervalMs, tauMs } = gcraFor(opts.perMinute, opts.burst)
  // Theoretical arrival time of the next request at the sustained rate.
  let tat = 0
  let pausedUntil = 0

  function exceeded (ms: number): never {
    event('exceeded')
    throw new RateBudgetExceeded(Math.max(1, Math.ceil(ms)))
  }

  return {
    async acquire ({ maxWaitMs = 30_000 } = {}) {
      const deadline = clock() + maxWaitMs
      for (;;) {
        const now = clock()
        if (pausedUntil > now) {
          // A 429's Retry-After is in force: wait it out first, then queue.
          if (pausedUntil > deadline) exceeded(pausedUntil - now)
          event('paused')
          await wait(pausedUntil - now)
          continue
        }
        const at = Math.max(tat, now)
        const raw = at - tauMs - now
        // T and tau are fractional ms: ignore float dust, or the B-th burst slot waits.
        const delay = raw < 0.001 ? 0 : raw
        // A free slot is always taken: the clock may tick between reading the
        // deadline and now, which must not refuse a caller that waits for nothing.
        if (delay > 0 && now + delay > deadline) exceeded(delay)
        // Reserve the slot before sleeping: callers queue in order for
        // successive slots instead of all waking at once and racing for one.
        tat = at + intervalMs
        if (delay > 0) {
          event('wait')
          await wait(delay)
          // A 429 arrived while we slept: the pause wins over the reservation.
          // Queue again after it; the abandoned slot only makes us slower.
          if (pausedUntil > clock()) continue
        }
        return
      }
    },
    async pause (ms) {
      // Only ever extends: Retry-After is a floor.
      pausedUntil = Math.max(pausedUntil, clock() + ms)
    },
    async close () {},
  }
}
