/**
 * Redis keys of the webhook stores. Ids inside keys are ours (delivery, request
 * and client ids), so a caller cannot shape a key. All carry the records hash
 * tag: a delivery is written in the same script as the state it reports.
 */
import { RECORDS_TAG as R } from '../../redis/hash-tag.js'

export const webhookKeys = {
  /** JSON delivery record; expires `DELIVERY_RETENTION_SECONDS` after it was written. */
  delivery: (id: string) => `${R}wh:dlv:${id}`,
  /** Sorted set: deliveries written but not yet handed to the queue, by creation time (ms). */
  outbox: () => `${R}wh:outbox`,
  /** Sorted set: a client's delivery ids by creation time (ms). */
  clientIndex: (clientId: string) => `${R}wh:client:${clientId}:dlv`,
  /** Sorted set: the delivery ids about one request or group sync. */
  subjectIndex: (subjectId: string) => `${R}wh:subject:${subjectId}`,
  /** JSON endpoint state of a client (present while its endpoint is disabled). */
  endpoint: (clientId: string) => `${R}wh:endpoint:${clientId}`,
}

/** Deliveries are kept as long as the requests they report on. */
export const DELIVERY_RETENTION_SECONDS = 30 * 24 * 3600
