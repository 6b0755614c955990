import { NO_DURABILITY, type Durability, type RedisClient } from '../../redis/connection.js'
import { withScripts } from '../../redis/lua.js'
import { webhookInsertArgs } from '../../webhooks/store/redis.js'
import { BATCH_RETENTION_SECONDS, type BatchStore, type WorkerBatch } from '../ports.js'
import { batchKeys as keys } from './keys.js'

interface BatchScripts {
  batchComplete (numKeys: number, ...keysThenArgs: Array<string | number>): Promise<number>
}

const SCRIPTS = {
  batchComplete: { file: 'batch-complete', keys: -1, libs: ['lib-webhook-insert'] },
}

/** Redis adapter of the worker batch store; a batch and the state that owes a webhook are confirmed on replicas (`durability`). */
export function createRedisBatchStore (redisConn: RedisClient, durability: Durability = NO_DURABILITY): BatchStore {
  const redis = withScripts<BatchScripts>(redisConn, SCRIPTS)
  return {
    lease: async (id, ms) => (await redis.set(keys.lease(id), '1', 'PX', ms, 'NX')) !== null,
    async release (id) { await redis.del(keys.lease(id)) },
    async insert (b) {
      const set = await redis.set(keys.batch(b.id), JSON.stringify(b), 'EX', BATCH_RETENTION_SECONDS, 'NX')
      if (set === null) return false
      await durability.confirm()
      return true
    },
    async get (id) {
      const json = await redis.get(keys.batch(id))
      return json === null ? undefined : JSON.parse(json) as WorkerBatch
    },
    async save (b) {
      const tx = redis.multi().set(keys.batch(b.id), JSON.stringify(b), 'KEEPTTL')
      if (b.status === 'accepted') tx.zadd(keys.open(), Date.parse(b.updatedAt), b.id)
      await tx.exec()
      await durability.confirm()
    },
    async settle (id, requestIds) {
      const tx = redis.multi()
      if (requestIds.length > 0) tx.sadd(keys.settled(id), ...requestIds).expire(keys.settled(id), BATCH_RETENTION_SECONDS)
      const replies = await tx.scard(keys.settled(id)).exec()
      const count = replies?.at(-1)?.[1]
      return typeof count === 'number' ? count : 0
    },
    async complete (b, outbox) {
      const hook = outbox ? webhookInsertArgs(outbox) : { keys: [], args: [] }
      const allKeys = [keys.batch(b.id), keys.done(b.id), keys.open(), ...hook.keys]
      const completed = (await redis.batchComplete(allKeys.length, ...allKeys, b.id, JSON.stringify(b), BATCH_RETENTION_SECONDS, ...hook.args)) === 1
      if (completed) {
        await redis.del(keys.settled(b.id))
        await durability.confirm()
      }
      return completed
    },
    open: (limit, now) => redis.zrangebyscore(keys.open(), '-inf', now, 'LIMIT', 0, limit),
    async recheck (id, at) { await redis.zadd(keys.open(), 'XX', at, id) },
    async forget (id) { await redis.zrem(keys.open(), id) },
  }
}
