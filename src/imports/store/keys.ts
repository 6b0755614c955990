/** Redis keys of the import store (each written alone: no hash tag needed, kept with the records for locality). */
import { RECORDS_TAG as R } from '../../redis/hash-tag.js'

export const importKeys = {
  /** JSON import resource; expires `IMPORT_RETENTION_SECONDS` after it was made. */
  import: (id: string) => `${R}imp:${id}`,
}
