/**
 * Redis keys of the worker batch store. A batch completes with its webhook in
 * one script, so its keys carry the records hash tag.
 */
import { RECORDS_TAG as R } from '../../redis/hash-tag.js'

export const batchKeys = {
  /** JSON batch record; expires `BATCH_RETENTION_SECONDS` after it was accepted. */
  batch: (id: string) => `${R}wbt:${id}`,
  /** Set: the batch's request ids known to be terminal (same expiry). */
  settled: (id: string) => `${R}wbt:${id}:settled`,
  /** Present once the batch completed: the completion (and its webhook) happens once. */
  done: (id: string) => `${R}wbt:${id}:done`,
  /** Sorted set: accepted, not yet completed batch ids by the time of their next check (ms). */
  open: () => `${R}wbt:open`,
  /** Present while one process takes the batch in (PX). */
  lease: (id: string) => `${R}wbt:${id}:lease`,
}
