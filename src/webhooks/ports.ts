/**
 * Webhook deliveries: one per event and endpoint. A delivery is written in the
 * same atomic step as the state change it reports (the outbox), handed to the
 * delivery queue, and keeps every attempt for the HRIS and operators to read.
 */

export const WEBHOOK_EVENT_TYPES = ['provisioning.completed', 'provisioning.rejected', 'provisioning.failed', 'group.sync.completed', 'worker-batch.completed', 'worker.drift.detected'] as const
export type WebhookEventType = typeof WEBHOOK_EVENT_TYPES[number]

/**
 * - `pending`: queued or waiting for its next attempt;
 * - `delivered`: the endpoint answered 2xx;
 * - `dead`: every scheduled attempt failed (the dead-letter state; redeliver to replay);
 * - `disabled`: held because the endpoint answered 410 Gone (enable it, then redeliver).
 */
export const DELIVERY_STATUSES = ['pending', 'delivered', 'dead', 'disabled'] as const
export type DeliveryStatus = typeof DELIVERY_STATUSES[number]

export interface DeliveryAttempt {
  /** Replay generation this attempt belongs to (0 for the original delivery). */
  generation: number
  /** 1-based attempt number within its generation. */
  attempt: number
  at: string
  durationMs: number
  /** The `webhook-timestamp` sent, seconds. */
  timestamp: number
  statusCode?: number
  /** What went wrong, in words (never a secret or a response body). */
  error?: string
}

export interface Delivery {
  /** The `webhook-id`: stable across retries and replays of this event. */
  id: string
  clientId: string
  type: WebhookEventType
  /** The provisioning request (or group sync) the event is about. */
  subjectId: string
  /** The exact bytes sent: `{"type","timestamp","data"}`. */
  body: string
  createdAt: string
  status: DeliveryStatus
  generation: number
  attempts: DeliveryAttempt[]
  nextAttemptAt?: string
  deliveredAt?: string
}

export interface DeliveryQuery {
  subjectId?: string
  status?: DeliveryStatus
  limit: number
  cursor?: string
}

export interface EndpointState {
  /** SHA-256 of the URL that answered 410; a new URL in the clients file is a new endpoint. */
  urlSha256: string
  disabledAt: string
  deliveryId: string
  statusCode: number
}

export interface DeliveryStore {
  /** Stores a new delivery in the outbox; false (and nothing written) when its id exists. */
  insert (delivery: Delivery): Promise<boolean>
  get (id: string): Promise<Delivery | undefined>
  /**
   * Replaces the delivery if its stored generation is still `expectedGeneration`;
   * false when a replay started a newer generation meanwhile (nothing written).
   */
  save (delivery: Delivery, expectedGeneration: number): Promise<boolean>
  list (clientId: string, query: DeliveryQuery): Promise<{ items: Delivery[], nextCursor?: string }>
  /** Deliveries written but not yet handed to the queue, created before `olderThan` (ISO), oldest first. */
  outbox (olderThan: string, limit: number): Promise<string[]>
  /** The delivery's job exists: take it out of the outbox. */
  dispatched (id: string): Promise<void>
  endpointState (clientId: string): Promise<EndpointState | undefined>
  disableEndpoint (clientId: string, state: EndpointState): Promise<void>
  enableEndpoint (clientId: string): Promise<boolean>
}

/** The queue of delivery attempts; one job per delivery generation. */
export interface DeliveryQueue {
  enqueue (delivery: Pick<Delivery, 'id' | 'generation'>): Promise<void>
}

export interface DeliveryJob {
  deliveryId: string
  generation: number
}

/** The job id of a delivery generation (a replay is a new job). */
export function deliveryJobId (d: Pick<Delivery, 'id' | 'generation'>): string {
  return d.generation === 0 ? d.id : `${d.id}-g${d.generation}`
}
