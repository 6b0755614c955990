import type { Redis } from 'ioredis'
import type { Delivery, DeliveryStore, EndpointState } from '../webhooks/ports.js'
import { decodeCursor, encodeCursor, isAfterCursor } from './cursor.js'
import { withScripts } from './lua.js'
import { DELIVERY_RETENTION_SECONDS, webhookKeys as keys } from './webhook-keys.js'

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

/** Redis adapter of the webhook delivery store; multi-key changes are Lua scripts. */
export function createRedisDeliveryStore (redisConn: Redis): DeliveryStore {
  const redis = withScripts<WebhookScripts>(redisConn, WEBHOOK_SCRIPTS)
  return {
    async insert (delivery) {
      const { keys: k, args } = webhookInsertArgs(delivery)
      return (await redis.webhookInsert(...k, ...args)) === 1
    },
    async get (id) {
      return parse(await redis.get(keys.delivery(id)))
    },
    async save (delivery, expectedGeneration) {
      return (await redis.webhookSave(keys.delivery(delivery.id), JSON.stringify(delivery), expectedGeneration)) === 1
    },
    async list (clientId, query) {
      const after = query.cursor ? decodeCursor(query.cursor) : undefined
      const index = query.subjectId !== undefined ? keys.subjectIndex(query.subjectId) : keys.clientIndex(clientId)
      const max = after ? `(${Date.parse(after.createdAt) + 1}` : '+inf'
      const items: Delivery[] = []
      let offset = 0
      // Status is filtered on fetched records: read in chunks, bounded per call.
      for (let scanned = 0; items.length <= query.limit && scanned < 5000;) {
        const ids = await redis.zrevrangebyscore(index, max, '-inf', 'LIMIT', offset, 200)
        if (ids.length === 0) break
        offset += ids.length
        scanned += ids.length
        for (const json of await redis.mget(ids.map(keys.delivery))) {
          const d = parse(json)
          if (!d || d.clientId !== clientId || !isAfterCursor(d, after)) continue
          if (query.status !== undefined && d.status !== query.status) continue
          items.push(d)
        }
      }
      items.sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id))
      const page = items.slice(0, query.limit)
      const last = page.at(-1)
      return items.length > query.limit && last ? { items: page, nextCursor: encodeCursor(last) } : { items: page }
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
