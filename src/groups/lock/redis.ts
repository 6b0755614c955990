import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import type { RedisClient } from '../../redis/connection.js'
import type { QueueLock } from '../ports.js'
import { groupKeys, QUEUE_LOCK_TTL_MS } from '../store/keys.js'
import { withScripts } from '../../redis/lua.js'
import { QUEUE_LOCK_WAIT_MS, queueBusy } from './memory.js'

interface Scripts {
  compareAndDelete (key: string, value: string): Promise<number>
}

/**
 * Fleet-wide twin of the queue lock: `SET key <random> NX PX ttl` to take it,
 * compare-and-delete to release it (a holder whose lock expired never frees
 * somebody else's). Waiters poll with jitter up to `waitMs`.
 */
export function createRedisQueueLock (redisConn: RedisClient, opts: { ttlMs?: number, waitMs?: number, pollMs?: number, random?: () => number } = {}): QueueLock {
  const redis = withScripts<Scripts>(redisConn, { compareAndDelete: { file: 'compare-and-delete', keys: 1 } })
  const ttlMs = opts.ttlMs ?? QUEUE_LOCK_TTL_MS
  const waitMs = opts.waitMs ?? QUEUE_LOCK_WAIT_MS
  const pollMs = opts.pollMs ?? 25
  const random = opts.random ?? Math.random

  return {
    async withLock (queueId, fn) {
      const key = groupKeys.queueLock(queueId)
      const holder = randomUUID()
      const deadline = Date.now() + waitMs
      while ((await redis.set(key, holder, 'PX', ttlMs, 'NX')) !== 'OK') {
        if (Date.now() >= deadline) throw queueBusy(queueId)
        await sleep(pollMs * (0.5 + random()))
      }
      try {
        return await fn()
      } finally {
        await redis.compareAndDelete(key, holder)
      }
    },
  }
}
