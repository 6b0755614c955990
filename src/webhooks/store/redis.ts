import { NO_DURABILITY, type Durability, type RedisClient } from '../../redis/connection.js'
import type { Delivery, DeliveryStore, EndpointState } from '../ports.js'
import { pageFromIndex } from '../../redis/index-page.js'
import { withScripts } from '../../redis/lua.js'
import { DELIVERY_RETENTION_SECONDS, webhookKeys as keys } from './keys.js'

interface WebhookScripts {
  webhookInsert (deliveryKey: string, outboxKey: string, clientKey: string, subjectKey: string, id: string, json: string, createdMs: number, retention: number): Promise<number>
  webhookSave (deliveryKey: string, json: string, expectedGeneration: number): Promise<number>
}

const WEBHOOK_SCRIPTS = {
  webhookInsert: { file: 'webhook-insert', keys: 4, libs: ['lib-webhook-insert'] },
  webhookSave: { file: 'webhook-save', keys: 1 },
}

const parse = (json: string | null): Delivery | undefined => (json === null ? undefined : JSON.parse(json) as Delivery)

/** The keys and arguments of a delivery insert, for scripts that write one alongside their own change. */
export function webhookInsertArgs (d: Delivery): { keys: [string, string, string, string], args: [string, string, number, number] } {
  return {
    keys: [keys.delivery(d.id), keys.outbox(), keys.clientIndex(d.clientId), keys.subjectIndex(d.subjectId)],
    args: [d.id, JSON.stringify(d), Date.parse(d.createdAt), DELIVERY_RETENTION_SECONDS],
  }
}

/** Redis adapter of the webhook delivery store; multi-key changes are Lua scripts; a new delivery is confirmed on replicas (`durability`). */
export function createRedisDeliveryStore (redisConn: RedisClient, durability: Durability = NO_DURABILITY): DeliveryStore {
  const redis = withScripts<WebhookScripts>(redisConn, WEBHOOK_SCRIPTS)
  return {
    async insert (delivery) {
      const { keys: k, args } = webhookInsertArgs(delivery)
      const inserted = (await redis.webhookInsert(...k, ...args)) === 1
      if (inserted) await durability.confirm()
      return inserted
    },
    async get (id) {
      return parse(await redis.get(keys.delivery(id)))
    },
    async save (delivery, expectedGeneration) {
      return (await redis.webhookSave(keys.delivery(delivery.id), JSON.stringify(delivery), expectedGeneration)) === 1
    },
    async list (clientId, query) {
      return pageFromIndex(redis, {
        index: query.subjectId !== undefined ? keys.subjectIndex(query.subjectId) : keys.clientIndex(clientId),
        recordKey: keys.delivery,
        parse,
        keep: (d) => d.clientId === clientId && (query.status === undefined || d.status === query.status),
        limit: query.limit,
        cursor: query.cursor,
      })
    },
    async outbox (olderThan, limit) {
      return redis.zrangebyscore(keys.outbox(), '-inf', `(${Date.parse(olderThan)}`, 'LIMIT', 0, limit)
    },
    async dispatched (id) {
      await redis.zrem(keys.outbox(), id)
    },
    async endpointState (clientId) {
      const json = await redis.get(keys.endpoint(clientId))
      return json === null ? undefined : JSON.parse(json) as EndpointState
    },
    async disableEndpoint (clientId, state) {
      await redis.set(keys.endpoint(clientId), JSON.stringify(state))
    },
    async enableEndpoint (clientId) {
      return (await redis.del(keys.endpoint(clientId))) === 1
    },
  }
}
