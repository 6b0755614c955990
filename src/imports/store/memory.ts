import { IMPORT_RETENTION_SECONDS, type ImportEntry, type ImportStore, type RosterImport } from '../ports.js'

/** Imports the embedded store keeps at most (the oldest go first). */
export const MEMORY_IMPORT_CAP = 100

/** In-memory twin of the import store (embedded mode): retention as with Redis, and at most `MEMORY_IMPORT_CAP` imports. */
export function createMemoryImportStore (opts: { now?: () => number } = {}): ImportStore {
  const now = opts.now ?? Date.now
  const imports = new Map<string, RosterImport>()
  const rosters = new Map<string, ImportEntry[]>()
  const drop = (id: string) => { imports.delete(id); rosters.delete(id) }
  return {
    async insert (imp, roster) {
      const oldest = now() - IMPORT_RETENTION_SECONDS * 1000
      for (const [id, i] of imports) if (Date.parse(i.createdAt) < oldest) drop(id)
      while (imports.size >= MEMORY_IMPORT_CAP) drop(imports.keys().next().value as string)
      imports.set(imp.id, structuredClone(imp))
      rosters.set(imp.id, structuredClone([...roster]))
    },
    get: async (id) => {
      const imp = imports.get(id)
      return imp && structuredClone(imp)
    },
    roster: async (id) => {
      const r = rosters.get(id)
      return r && structuredClone(r)
    },
    async save (imp) {
      if (!imports.has(imp.id)) return
      imports.set(imp.id, structuredClone(imp))
      if (imp.status !== 'running') rosters.delete(imp.id)
    },
  }
}
