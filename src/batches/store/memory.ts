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
  const leases = new Map<string, number>()
  // Open batch id → when it is checked next (ms).
  const due = new Map<string, number>()
  const copy = (b: WorkerBatch): WorkerBatch => structuredClone(b)

  function prune (): void {
    const oldest = now() - BATCH_RETENTION_SECONDS * 1000
    // Past the retention every batch goes, as its Redis key expires; completed ones also past the cap.
    for (const b of batches.values()) {
      if (Date.parse(b.createdAt) < oldest) {
        batches.delete(b.id)
        settled.delete(b.id)
      }
    }
    const completed = [...batches.values()].filter((b) => b.status === 'completed')
    const over = completed.length - MEMORY_BATCH_CAP
    for (const b of completed.slice(0, Math.max(0, over))) batches.delete(b.id)
  }

  return {
    async lease (id, ms) {
      if ((leases.get(id) ?? 0) > now()) return false
      leases.set(id, now() + ms)
      return true
    },
    async release (id) { leases.delete(id) },
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
    async save (b) {
      batches.set(b.id, copy(b))
      if (b.status === 'accepted') due.set(b.id, Date.parse(b.updatedAt))
    },
    async settle (id, requestIds) {
      if (batches.get(id)?.status !== 'accepted') return settled.get(id)?.size ?? 0
      const set = settled.get(id) ?? new Set<string>()
      for (const r of requestIds) set.add(r)
      settled.set(id, set)
      return set.size
    },
    async complete (b, outbox) {
      const current = batches.get(b.id)
      if (!current || current.status === 'completed') {
        due.delete(b.id)
        return false
      }
      if (outbox) {
        if (!opts.outbox) throw new Error('this batch store was built without a webhook outbox')
        opts.outbox.insertNow(outbox)
      }
      batches.set(b.id, copy(b))
      settled.delete(b.id)
      due.delete(b.id)
      return true
    },
    open: async (limit, at) => [...due].filter(([, t]) => t <= at).sort((a, b) => a[1] - b[1]).slice(0, limit).map(([id]) => id),
    async recheck (id, at) { if (due.has(id)) due.set(id, at) },
    async forget (id) { due.delete(id) },
  }
}
