import { createHash } from 'node:crypto'
import type { ApiClient } from '../config/clients.js'
import type { Delivery, WebhookEventType } from './ports.js'

/**
 * Event payloads. Thin on purpose: ids, statuses and what the HRIS needs to
 * store against the employee; never a password, token or secret (the intake API
 * takes none, and Genesys errors are reduced to code, message and correlation id).
 */

/** Bodies stay under this size; long issue lists are cut and marked as such. */
export const MAX_BODY_BYTES = 20_000

export interface WebhookEvent {
  type: WebhookEventType
  timestamp: string
  data: Record<string, unknown>
}

/** `msg_` and 26 characters derived from what the event is about. */
export function eventId (subject: string): string {
  return `msg_${createHash('sha256').update(subject).digest('base64url').slice(0, 26)}`
}

/**
 * Serialises an event under `MAX_BODY_BYTES`: while it is too long, the lists
 * named in `lists` (inside `data`, or inside `data[within]`) are halved, and
 * `<list>Truncated` says how many entries each lost.
 */
export function serializeEvent (event: WebhookEvent, lists: readonly string[] = ['issues'], within?: string): string {
  let body = JSON.stringify(event)
  const holder = (within === undefined ? event.data : event.data[within]) as Record<string, unknown> | undefined
  if (Buffer.byteLength(body) <= MAX_BODY_BYTES || !holder) return body
  let keep = Math.max(0, ...lists.map((k) => (Array.isArray(holder[k]) ? (holder[k] as unknown[]).length : 0)))
  while (keep > 0 && Buffer.byteLength(body) > MAX_BODY_BYTES) {
    keep = Math.floor(keep / 2)
    const cut: Record<string, unknown> = { ...holder }
    for (const k of lists) {
      const list = holder[k]
      if (Array.isArray(list) && list.length > keep) {
        cut[k] = list.slice(0, keep)
        cut[`${k}Truncated`] = list.length - keep
      }
    }
    body = JSON.stringify({ ...event, data: within === undefined ? { ...event.data, ...cut } : { ...event.data, [within]: cut } })
  }
  return body
}

/** Whether a client's endpoint takes this event type (no list = every type). */
export function wants (client: Pick<ApiClient, 'webhook'> | undefined, type: WebhookEventType): boolean {
  const endpoint = client?.webhook
  if (!endpoint) return false
  return endpoint.events === undefined || endpoint.events.includes(type)
}

/** What a producer says about one event: the rest of its outbox entry is the same for all. */
export interface OutboxEvent {
  /** Stable per subject and run (see `eventId`), so a replayed producer yields the same `webhook-id`. */
  id: string
  clientId: string
  subjectId: string
  event: WebhookEvent
  /** Lists `serializeEvent` may shorten, and the object of `data` holding them. */
  lists?: readonly string[]
  within?: string
}

/**
 * The outbox entry for an event, or undefined when the client has no endpoint or
 * does not take this event type. Producers (provisioning, groups) build their
 * events and hand them here; this module knows none of their records.
 */
export function outboxEntry (made: OutboxEvent, client: Pick<ApiClient, 'webhook'> | undefined): Delivery | undefined {
  if (!wants(client, made.event.type)) return undefined
  return {
    id: made.id,
    clientId: made.clientId,
    type: made.event.type,
    subjectId: made.subjectId,
    body: serializeEvent(made.event, made.lists, made.within),
    createdAt: made.event.timestamp,
    status: 'pending',
    generation: 0,
    attempts: [],
  }
}
