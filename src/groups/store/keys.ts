/**
 * Redis keys of the group stores. Paths are hashed inside keys; ids are ours.
 * Records carry the records hash tag (a sync is saved with its webhook); a
 * queue lock is used alone and spreads.
 */
import { RECORDS_TAG as R } from '../../redis/hash-tag.js'

export const groupKeys = {
  /** Hash: canonical HR path → mapping JSON (no TTL: mappings are configuration). */
  mappings: () => `${R}grp:mappings`,
  /** Hash: Genesys group id → the division id whose mapping claimed it (no TTL). */
  groupOwners: () => `${R}grp:owners`,
  /** JSON group sync record; expires `GROUP_SYNC_RETENTION_SECONDS` after it was accepted. */
  sync: (id: string) => `${R}grp:sync:${id}`,
  /** Sorted set: a client's sync ids by creation time (ms). */
  clientSyncs: (clientId: string) => `${R}grp:client:${clientId}:syncs`,
  /** Sorted set: non-terminal sync ids by last update (ms); re-enqueued from here after a crash. */
  pendingSyncs: () => `${R}grp:syncs:pending`,
  /**
   * Random holder value while one replica rewrites a Genesys queue (ids are
   * Genesys UUIDs); PX `QUEUE_LOCK_TTL_MS`, so a dead holder blocks nobody for long.
   */
  queueLock: (queueId: string) => `grp:queue-lock:${queueId}`,
}

/** Life of a queue lock: far above one GET, PUT and GET (each bounded by the Genesys timeouts). */
export const QUEUE_LOCK_TTL_MS = 60_000

export const GROUP_SYNC_RETENTION_SECONDS = 30 * 24 * 3600
