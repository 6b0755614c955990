import type { Config } from '../config/load-config.js'
import type { AdapterContext, Adapters } from './adapter-ports.js'
import type { Metrics } from '../metrics.js'
import { memoryAdapters } from './memory-adapters.js'

export type { AdapterContext, Adapters } from './adapter-ports.js'

/**
 * Decides, once, between Redis (REDIS_URL, Sentinel or cluster) and the
 * embedded in-memory twins. The Redis side (ioredis, BullMQ and every Redis
 * store) is loaded only when configured: the embedded default never loads it.
 */
export async function createAdapters (config: Readonly<Config>, ctx: AdapterContext & { metrics: Metrics }): Promise<Adapters> {
  const adapters = config.redis ? await (await import('./redis-adapters.js')).redisAdapters(config, config.redis, ctx) : memoryAdapters(config, ctx.clock)
  const { jobQueue } = adapters
  // Every job queue's depth is on /metrics, whichever kind it is.
  return {
    ...adapters,
    jobQueue: <T>(name: string, opts: Parameters<Adapters['jobQueue']>[1]) => {
      const queue = jobQueue<T>(name, opts)
      ctx.metrics.watchQueue({ name, counts: () => queue.counts() })
      return queue
    },
  }
}
