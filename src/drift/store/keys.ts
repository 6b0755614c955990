/** Redis keys of the drift store (each written alone). */
import { RECORDS_TAG as R } from '../../redis/hash-tag.js'

export const driftKeys = {
  /** JSON reconciliation run; expires `DRIFT_RETENTION_SECONDS` after it started. */
  run: (id: string) => `${R}rcn:${id}`,
  /** JSON: a client's current drift findings (replaced by each run; same expiry). */
  current: (clientId: string) => `${R}drift:${clientId}`,
}
