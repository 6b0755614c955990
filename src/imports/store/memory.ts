import { IMPORT_RETENTION_SECONDS, type ImportStore, type RosterImport } from '../ports.js'

/** Imports the embedded store keeps at most (the oldest go first). */
export const MEMORY_IMPORT_CAP = 100

/** In-memory twin of the import store (embedded mode): retention as with Redis, and at most `MEMORY_IMPORT_CAP` imports. */
export function createMemoryImportStore (opts: { now?: () => number } = {}): ImportStore {
  const now = opts.now ?? Date.now
  const imports = new Map<string, RosterImport>()
  return {
    async insert (imp) {
      const oldest = now() - IMPORT_RETENTION_SECONDS * 1000
      for (const [id, i] of imports) if (Date.parse(i.createdAt) < oldest) imports.delete(id)
      while (imports.size >= MEMORY_IMPORT_CAP) imports.delete(imports.keys().next().value as string)
      imports.set(imp.id, structuredClone(imp))
    },
    get: async (id) => {
      const imp = imports.get(id)
      return imp && structuredClone(imp)
    },
  }
}
