import type { DriftFinding, DriftStore, ReconciliationRun } from '../ports.js'

/** Runs the embedded store keeps at most (the oldest go first). */
export const MEMORY_RUN_CAP = 500

/** In-memory twin of the drift store (embedded mode). */
export function createMemoryDriftStore (): DriftStore {
  const runs = new Map<string, ReconciliationRun>()
  const current = new Map<string, DriftFinding[]>()
  return {
    async insertRun (run) {
      if (runs.has(run.id)) return false
      while (runs.size >= MEMORY_RUN_CAP) runs.delete(runs.keys().next().value as string)
      runs.set(run.id, structuredClone(run))
      return true
    },
    async saveRun (run) { if (runs.has(run.id)) runs.set(run.id, structuredClone(run)) },
    getRun: async (id) => {
      const r = runs.get(id)
      return r && structuredClone(r)
    },
    async replace (clientId, findings) { current.set(clientId, structuredClone([...findings])) },
    current: async (clientId) => structuredClone(current.get(clientId) ?? []),
  }
}
