import type { RedisClient } from '../../redis/connection.js'
import { asError } from '../../lib/failure-log.js'
import { createMemoryRateBudget, gcraFor, sleep, type RateBudgetOptions } from './memory.js'
import { RateBudgetExceeded, type RateBudget } from '../ports.js'
import { genesysKeys } from '../keys.js'
import { withScripts } from '../../redis/lua.js'
import { bounded, RedisUnavailable } from '../../redis/bounded.js'
import type { StoreLogger } from '../token/redis.js'

interface BudgetScripts {
  budgetAcquire (tatKey: string, pauseKey: string, intervalMs: number, tauMs: number, maxWaitMs: number): Promise<[number, number]>
  budgetPause (pauseKey: string, ms: number): Promise<number>
}

const SCRIPTS = {
  budgetAcquire: { file: 'budget-acquire', keys: 2 },
  budgetPause: { file: 'budget-pause', keys: 1 },
}

export interface RedisRateBudgetOptions extends Omit<RateBudgetOptions, 'clock' | 'sleep'> {
  /** A request-path connection: `enableOfflineQueue: false` and a `commandTimeout`; not closed by `close()`. */
  redis: RedisClient
  clientId: string
  /** A Redis call slower than this counts as Redis being down. Default 500 ms. */
  redisTimeoutMs?: number
  logger?: StoreLogger
  /** While Redis is down, how often to try it again (default 5 s). */
  probeEveryMs?: number
}

/**
 * The rate budget shared by every replica: one GCRA in Redis per OAuth client,
 * reserved atomically by a Lua script on Redis's clock (so `clock` is not an
 * option here), and one shared pause after a 429. If Redis is down or hung,
 * each replica falls back to an in-process budget with the same limit (over
 * the limit fleet-wide while it lasts; Genesys' 429s then pause each replica),
 * logged once per outage.
 */
export function createRedisRateBudget (opts: RedisRateBudgetOptions): RateBudget {
  const redis = withScripts<BudgetScripts>(opts.redis, SCRIPTS)
  const { intervalMs, tauMs } = gcraFor(opts.perMinute, opts.burst)
  const timeoutMs = opts.redisTimeoutMs ?? 500
  const event = opts.onEvent ?? (() => {})
  const tatKey = genesysKeys.budgetTat(opts.clientId)
  const pauseKey = genesysKeys.budgetPause(opts.clientId)
  const local = createMemoryRateBudget({ perMinute: opts.perMinute, burst: opts.burst, onEvent: opts.onEvent })
  // This replica's own view of the pause: honoured even when the shared one
  // could not be written (Redis down) or was lost (Redis restarted).
  let pausedUntil = 0
  let degraded = false
  // While Redis is failing, probe it at most this often instead of paying its
  // timeout on every call.
  const probeEveryMs = opts.probeEveryMs ?? 5000
  let nextProbe = 0

  function fallback (err: unknown): void {
    nextProbe = Date.now() + probeEveryMs
    if (!degraded) {
      degraded = true
      opts.logger?.warn({ err: asError(err) }, 'rate budget: Redis unavailable, using a per-process budget')
    }
  }

  function exceeded (ms: number): never {
    event('exceeded')
    throw new RateBudgetExceeded(Math.max(1, Math.ceil(ms)))
  }

  /** Whether a pause is in force, here or fleet-wide; Redis trouble counts as "no" (the slot is ours). */
  async function pausedNow (): Promise<boolean> {
    if (pausedUntil > Date.now()) return true
    try {
      return await bounded(redis.budgetPause(pauseKey, 0), timeoutMs) > 0
    } catch (err) {
      if (!(err instanceof RedisUnavailable)) throw err
      fallback(err)
      return false
    }
  }

  return {
    async acquire ({ maxWaitMs = 30_000 } = {}) {
      const deadline = Date.now() + maxWaitMs
      for (;;) {
        const now = Date.now()
        if (pausedUntil > now) {
          if (pausedUntil > deadline) exceeded(pausedUntil - now)
          event('paused')
          await sleep(pausedUntil - now)
          continue
        }
        const left = Math.max(0, deadline - Date.now())
        if (degraded && Date.now() < nextProbe) return local.acquire({ maxWaitMs: left })
        let reply: [number, number]
        try {
          reply = await bounded(redis.budgetAcquire(tatKey, pauseKey, intervalMs, tauMs, left), timeoutMs)
        } catch (err) {
          if (!(err instanceof RedisUnavailable)) throw err
          fallback(err)
          return local.acquire({ maxWaitMs: Math.max(0, deadline - Date.now()) })
        }
        if (degraded) {
          degraded = false
          opts.logger?.warn({}, 'rate budget: Redis is back, using the shared budget')
        }
        const [reserved, wait] = reply
        if (reserved === 1) {
          if (wait > 0) {
            event('wait')
            await sleep(wait)
            // A 429 (here or on another replica) arrived while we slept: the
            // pause wins over the reservation. Queue again after it; the
            // abandoned slot only makes the fleet slower.
            if (await pausedNow()) continue
          }
          return
        }
        // Paused, or no slot within the bound (measured on Redis's clock).
        if (Date.now() + wait > deadline) exceeded(wait)
        event('paused')
        await sleep(wait)
      }
    },
    async pause (ms) {
      pausedUntil = Math.max(pausedUntil, Date.now() + ms)
      await local.pause(ms)
      if (degraded && Date.now() < nextProbe) return
      try {
        await bounded(redis.budgetPause(pauseKey, Math.ceil(ms)), timeoutMs)
      } catch (err) {
        if (!(err instanceof RedisUnavailable)) throw err
        fallback(err)
      }
    },
    async close () {},
  }
}
