import { TERMINAL_SYNC_STATUSES, type GroupMapping, type GroupSync, type GroupSyncStore, type MappingStore } from '../ports.js'
import { keysetPage } from '../../lib/cursor.js'
import type { MemoryDeliveryStore } from '../../webhooks/store/memory.js'

/** In-memory twins of the group stores (embedded mode); same contract as the Redis adapters. */

export function createMemoryMappingStore (): MappingStore {
  const mappings = new Map<string, GroupMapping>()
  const owners = new Map<string, string>()
  return {
    async claimGroup (groupId, divisionId) {
      const owner = owners.get(groupId) ?? divisionId
      owners.set(groupId, owner)
      return owner
    },
    ownerOf: async (groupId) => owners.get(groupId),
    async releaseGroup (groupId, divisionId) {
      if (owners.get(groupId) === divisionId) owners.delete(groupId)
    },
    get: async (hrPath) => structuredClone(mappings.get(hrPath)),
    async put (m) { mappings.set(m.hrPath, structuredClone(m)) },
    delete: async (hrPath) => mappings.delete(hrPath),
    list: async () => [...mappings.values()].sort((a, b) => a.hrPath.localeCompare(b.hrPath)).map((m) => structuredClone(m)),
  }
}

export function createMemoryGroupSyncStore (opts: { outbox?: Pick<MemoryDeliveryStore, 'insertNow'> } = {}): GroupSyncStore {
  const syncs = new Map<string, GroupSync>()
  return {
    async insert (s) { syncs.set(s.id, structuredClone(s)) },
    get: async (id) => structuredClone(syncs.get(id)),
    async save (s, outbox) {
      if (outbox) {
        if (!opts.outbox) throw new Error('this group sync store was built without a webhook outbox')
        opts.outbox.insertNow(outbox)
      }
      syncs.set(s.id, structuredClone(s))
    },
    async list (clientId, query) {
      const page = keysetPage([...syncs.values()].filter((s) => s.clientId === clientId && (query.hrPath === undefined || s.hrPath === query.hrPath)), query.limit, query.cursor)
      return { ...page, items: page.items.map((s) => structuredClone(s)) }
    },
    async pending (olderThan, limit) {
      return [...syncs.values()].filter((s) => !TERMINAL_SYNC_STATUSES.has(s.status) && s.updatedAt < olderThan)
        .sort((a, b) => a.updatedAt.localeCompare(b.updatedAt)).slice(0, limit).map((s) => s.id)
    },
  }
}
