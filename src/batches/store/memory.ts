import { BATCH_RETENTION_SECONDS, type BatchStore, type WorkerBatch } from '../ports.js'
import type { MemoryDeliveryStore } from '../../webhooks/store/memory.js'

/** Completed batches the embedded store keeps at most (the oldest go first). */
export const MEMORY_BATCH_CAP = 1000

/**
 * In-memory twin of the batch store (embedded mode). A completed batch's
 * webhook goes to the memory delivery store given; completed batches are kept
 * for the retention period and at most `MEMORY_BATCH_CAP` of them.
 */
export function createMemoryBatchStore (opts: { outbox?: Pick<MemoryDeliveryStore, 'insertNow'>, now?: () => number } = {}): BatchStore {
  const now = opts.now ?? Date.now
  const batches = new Map<string, WorkerBatch>()
  const settled = new Map<string, Set<string>>()
  const copy = (b: WorkerBatch): WorkerBatch => structuredClone(b)

  function prune (): void {
    const oldest = now() - BATCH_RETENTION_SECONDS * 1000
    const completed = [...batches.values()].filter((b) => b.status === 'completed')
    for (const b of completed) if (Date.parse(b.createdAt) < oldest) batches.delete(b.id)
    const over = completed.length - MEMORY_BATCH_CAP
    for (const b of completed.slice(0, Math.max(0, over))) batches.delete(b.id)
  }

  return {
    async insert (b) {
      if (batches.has(b.id)) return false
      prune()
      batches.set(b.id, copy(b))
      return true
    },
    get: async (id) => {
      const b = batches.get(id)
      return b && copy(b)
    },
    async save (b) { batches.set(b.id, copy(b)) },
    async settle (id, requestIds) {
      const set = settled.get(id) ?? new Set<string>()
      for (const r of requestIds) set.add(r)
      settled.set(id, set)
      return set.size
    },
    async complete (b, outbox) {
      if (batches.get(b.id)?.status === 'completed') return false
      if (outbox) {
        if (!opts.outbox) throw new Error('this batch store was built without a webhook outbox')
        opts.outbox.insertNow(outbox)
      }
      batches.set(b.id, copy(b))
      settled.delete(b.id)
      return true
    },
    open: async (limit) => [...batches.values()].filter((b) => b.status === 'accepted').map((b) => b.id).slice(0, limit),
  }
}
