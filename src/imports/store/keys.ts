/** Redis keys of the import store; an import and its roster are written together, so they share the records tag. */
import { RECORDS_TAG as R } from '../../redis/hash-tag.js'

export const importKeys = {
  /** JSON import resource; expires `IMPORT_RETENTION_SECONDS` after it was made. */
  import: (id: string) => `${R}imp:${id}`,
  /** JSON roster of a running import (deleted when it finishes; same expiry). */
  roster: (id: string) => `${R}imp:${id}:roster`,
}
