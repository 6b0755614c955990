/**
 * Redis keys of the webhook stores. Ids inside keys are ours (delivery, request
 * and client ids), so a caller cannot shape a key.
 */
export const webhookKeys = {
  /** JSON delivery record; expires `DELIVERY_RETENTION_SECONDS` after it was written. */
  delivery: (id: string) => `wh:dlv:${id}`,
  /** Sorted set: deliveries written but not yet handed to the queue, by creation time (ms). */
  outbox: () => 'wh:outbox',
  /** Sorted set: a client's delivery ids by creation time (ms). */
  clientIndex: (clientId: string) => `wh:client:${clientId}:dlv`,
  /** Sorted set: the delivery ids about one request or group sync. */
  subjectIndex: (subjectId: string) => `wh:subject:${subjectId}`,
  /** JSON endpoint state of a client (present while its endpoint is disabled). */
  endpoint: (clientId: string) => `wh:endpoint:${clientId}`,
}

/** Deliveries are kept as long as the requests they report on. */
export const DELIVERY_RETENTION_SECONDS = 30 * 24 * 3600
