import type { Redis } from 'ioredis'
import { createMemoryRateBudget, gcraFor, sleep, type RateBudgetOptions } from '../genesys/rate-budget.js'
import { RateBudgetExceeded, type RateBudget } from '../genesys/ports.js'
import { genesysKeys } from './genesys-keys.js'
import { withScripts } from './lua.js'
import { bounded, RedisUnavailable, type WarnLogger } from './redis-bounded.js'

interface BudgetScripts {
  budgetAcquire (tatKey: string, pauseKey: string, intervalMs: number, tauMs: number, maxWaitMs: number): Promise<[number, number]>
  budgetPause (pauseKey: string, ms: number): Promise<number>
}

const SCRIPTS = {
  budgetAcquire: { file: 'budget-acquire', keys: 2 },
  budgetPause: { file: 'budget-pause', keys: 1 },
}

export interface RedisRateBudgetOptions extends Omit<RateBudgetOptions, 'clock'> {
  redis: Redis
  clientId: string
  /** A Redis call slower than this counts as Redis being down. */
  redisTimeoutMs?: number
  logger?: WarnLogger
  /** While Redis is down, how often to try it again (default 5 s). */
  probeEveryMs?: number
}

/**
 * The rate budget shared by every replica: one GCRA in Redis per OAuth client,
 * reserved atomically by a Lua script on Redis's clock, and one shared pause
 * after a 429. If Redis is down or hung, each replica falls back to an
 * in-process budget with the same limit (over the limit fleet-wide while it
 * lasts; Genesys' 429s then pause each replica), logged once per outage.
 */
export function createRedisRateBudget (opts: RedisRateBudgetOptions): RateBudget {
  const redis = withScripts<BudgetScripts>(opts.redis, SCRIPTS)
  const { intervalMs, tauMs } = gcraFor(opts.perMinute, opts.burst)
  const timeoutMs = opts.redisTimeoutMs ?? 500
  const event = opts.onEvent ?? (() => {})
  const tatKey = genesysKeys.budgetTat(opts.clientId)
  const pauseKey = genesysKeys.budgetPause(opts.clientId)
  const local = createMemoryRateBudget({ perMinute: opts.perMinute, burst: opts.burst, onEvent: opts.onEvent })
  let degraded = false
  // While Redis is failing, probe it at most this often instead of paying its
  // timeout on every call.
  const probeEveryMs = opts.probeEveryMs ?? 5000
  let nextProbe = 0

  function fallback (err: unknown): void {
    nextProbe = Date.now() + probeEveryMs
    if (!degraded) {
      degraded = true
      opts.logger?.warn({ err: { message: err instanceof Error ? err.message : String(err) } }, 'rate budget: Redis unavailable, using a per-process budget')
    }
  }

  return {
    async acquire ({ maxWaitMs = 30_000 } = {}) {
      const deadline = Date.now() + maxWaitMs
      for (;;) {
        if (degraded && Date.now() < nextProbe) return local.acquire({ maxWaitMs: Math.max(0, deadline - Date.now()) })
        let reply: [number, number]
        try {
          reply = await bounded(redis.budgetAcquire(tatKey, pauseKey, intervalMs, tauMs, Math.max(0, deadline - Date.now())), timeoutMs)
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
          }
          return
        }
        // Paused, or no slot within the bound.
        if (Date.now() + wait > deadline) {
          event('exceeded')
          throw new RateBudgetExceeded(wait)
        }
        event('paused')
        await sleep(wait)
      }
    },
    async pause (ms) {
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
