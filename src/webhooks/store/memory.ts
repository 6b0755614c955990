import type { Delivery, DeliveryStore, EndpointState } from '../ports.js'
import { keysetPage } from '../../lib/cursor.js'

export interface MemoryDeliveryStore extends DeliveryStore {
  /** Synchronous insert, so the request store's terminal save and its outbox write are one step. */
  insertNow (delivery: Delivery): boolean
}

/** In-memory twin of the webhook store (embedded mode); same contract as the Redis adapter. */
export function createMemoryDeliveryStore (): MemoryDeliveryStore {
  const deliveries = new Map<string, Delivery>()
  const outbox = new Map<string, string>()
  const endpoints = new Map<string, EndpointState>()
  const copy = <T>(v: T): T => structuredClone(v)

  function insertNow (delivery: Delivery): boolean {
    if (deliveries.has(delivery.id)) return false
    deliveries.set(delivery.id, copy(delivery))
    outbox.set(delivery.id, delivery.createdAt)
    return true
  }

  return {
    insertNow,
    async insert (delivery) {
      return insertNow(delivery)
    },
    async get (id) {
      const d = deliveries.get(id)
      return d ? copy(d) : undefined
    },
    async save (delivery, expectedGeneration) {
      const current = deliveries.get(delivery.id)
      if (!current || current.generation !== expectedGeneration) return false
      deliveries.set(delivery.id, copy(delivery))
      return true
    },
    async list (clientId, query) {
      const matching = [...deliveries.values()].filter((d) => d.clientId === clientId &&
        (query.subjectId === undefined || d.subjectId === query.subjectId) &&
        (query.status === undefined || d.status === query.status))
      const page = keysetPage(matching, query.limit, query.cursor)
      return { ...page, items: page.items.map(copy) }
    },
    async outbox (olderThan, limit) {
      return [...outbox.entries()].filter(([, at]) => at < olderThan).sort((a, b) => a[1].localeCompare(b[1])).slice(0, limit).map(([id]) => id)
    },
    async dispatched (id) {
      outbox.delete(id)
    },
    async endpointState (clientId) {
      const s = endpoints.get(clientId)
      return s ? copy(s) : undefined
    },
    async disableEndpoint (clientId, state) {
      endpoints.set(clientId, copy(state))
    },
    async enableEndpoint (clientId) {
      return endpoints.delete(clientId)
    },
  }
}
