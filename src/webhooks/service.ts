import type { AuthenticatedClient, ClientRegistry } from '../config/clients.js'
import { errors } from '../errors.js'
import type { Clock } from '../lib/timers.js'
import { decodeCursor } from '../lib/cursor.js'
import { disabledState } from './delivery.js'
import type { WebhookEvent } from './events.js'
import { WEBHOOK_EVENT_TYPES, type WebhookEventType, type Delivery, type DeliveryQuery, type DeliveryQueue, type DeliveryStatus, type DeliveryStore } from './ports.js'
import { secretFingerprint } from './signing.js'

export interface EndpointView {
  url: string
  events: string[]
  secrets: Array<{ fingerprint: string }>
  status: 'enabled' | 'disabled'
  disabled?: { at: string, deliveryId: string, statusCode: number }
  retryScheduleSeconds: number[]
}

export interface DeliveryView {
  id: string
  type: WebhookEventType
  subjectId: string
  status: DeliveryStatus
  createdAt: string
  deliveredAt?: string
  nextAttemptAt?: string
  generation: number
  attempts: Array<{ generation: number, attempt: number, at: string, durationMs: number, statusCode?: number, error?: string }>
  payload: WebhookEvent
}

/** The state of a request's webhook, shown on the request resource. */
export interface WebhookSummary {
  deliveryId: string
  status: DeliveryStatus
  attempts: number
  lastAttemptAt?: string
  lastStatusCode?: number
  nextAttemptAt?: string
}

/** A pending delivery this far past its next attempt has lost its job. */
const STUCK_AFTER_MS = 10 * 60_000

/** Query strings and userinfo may carry a receiver's own token: shown masked. */
export function redactUrl (raw: string): string {
  try {
    const url = new URL(raw)
    url.username = ''
    url.password = ''
    for (const key of [...url.searchParams.keys()]) url.searchParams.set(key, '***')
    return url.toString().replace(/%2A%2A%2A/g, '***')
  } catch {
    return '(invalid URL)'
  }
}

export function toDeliveryView (d: Delivery): DeliveryView {
  return {
    id: d.id,
    type: d.type,
    subjectId: d.subjectId,
    status: d.status,
    createdAt: d.createdAt,
    ...(d.deliveredAt !== undefined ? { deliveredAt: d.deliveredAt } : {}),
    ...(d.nextAttemptAt !== undefined ? { nextAttemptAt: d.nextAttemptAt } : {}),
    generation: d.generation,
    attempts: d.attempts.map(({ timestamp: _t, ...a }) => a),
    payload: JSON.parse(d.body) as WebhookEvent,
  }
}

export function summarize (d: Delivery): WebhookSummary {
  const last = d.attempts.at(-1)
  return {
    deliveryId: d.id,
    status: d.status,
    attempts: d.attempts.length,
    ...(last ? { lastAttemptAt: last.at } : {}),
    ...(last?.statusCode !== undefined ? { lastStatusCode: last.statusCode } : {}),
    ...(d.nextAttemptAt !== undefined ? { nextAttemptAt: d.nextAttemptAt } : {}),
  }
}

/** The webhook API: the caller's endpoint, its deliveries, replay. */
export function createWebhookService (deps: {
  store: DeliveryStore
  queue: DeliveryQueue
  clients: Pick<ClientRegistry, 'get'>
  clock: Clock
  schedule: readonly number[]
}) {
  const { store } = deps

  async function own (client: AuthenticatedClient, id: string): Promise<Delivery> {
    const d = await store.get(id)
    // Another client's delivery is indistinguishable from a missing one.
    if (!d || d.clientId !== client.id) throw errors.notFound(`No webhook delivery ${id}.`)
    return d
  }

  function endpointOf (client: AuthenticatedClient) {
    const endpoint = deps.clients.get(client.id)?.webhook
    if (!endpoint) throw errors.notFound('No webhook endpoint is configured for this client; ask the operators to add one to the clients file.')
    return endpoint
  }

  return {
    async endpoint (client: AuthenticatedClient): Promise<EndpointView> {
      const endpoint = endpointOf(client)
      const disabled = await disabledState(store, client.id, endpoint.url)
      return {
        url: redactUrl(endpoint.url),
        events: endpoint.events ?? [...WEBHOOK_EVENT_TYPES],
        secrets: endpoint.secrets.map((s) => ({ fingerprint: secretFingerprint(s) })),
        status: disabled ? 'disabled' : 'enabled',
        ...(disabled ? { disabled: { at: disabled.disabledAt, deliveryId: disabled.deliveryId, statusCode: disabled.statusCode } } : {}),
        retryScheduleSeconds: deps.schedule.map((ms) => ms / 1000),
      }
    },

    async enable (client: AuthenticatedClient): Promise<EndpointView> {
      endpointOf(client)
      await store.enableEndpoint(client.id)
      return this.endpoint(client)
    },

    async list (client: AuthenticatedClient, query: DeliveryQuery) {
      if (query.cursor !== undefined && !decodeCursor(query.cursor)) throw errors.validation('Invalid query', [{ code: 'query.cursor', path: '/cursor', message: 'cursor is not a cursor this API returned' }])
      return store.list(client.id, query)
    },

    get: own,

    /** Sends the event again: same `webhook-id` and body, a new timestamp and signature. */
    async redeliver (client: AuthenticatedClient, id: string): Promise<Delivery> {
      const d = await own(client, id)
      // A pending delivery long past its attempt time has lost its job: a replay revives it.
      const stuck = d.status === 'pending' && d.nextAttemptAt !== undefined && Date.parse(d.nextAttemptAt) < deps.clock.now() - STUCK_AFTER_MS
      if (d.status === 'pending' && !stuck) throw errors.conflict(`Webhook delivery ${id} is already scheduled (next attempt ${d.nextAttemptAt ?? 'now'}).`)
      const endpoint = endpointOf(client)
      if (await disabledState(store, client.id, endpoint.url)) {
        throw errors.conflict('The webhook endpoint is disabled (it answered 410 Gone); enable it with POST /v1/webhook-endpoint/enable, then redeliver.')
      }
      const next: Delivery = { ...d, status: 'pending', generation: d.generation + 1, nextAttemptAt: new Date(deps.clock.now()).toISOString() }
      if (!(await store.save(next, d.generation))) throw errors.conflict(`Webhook delivery ${id} changed meanwhile; try again.`)
      await deps.queue.enqueue(next)
      return next
    },
  }
}

export type WebhookService = ReturnType<typeof createWebhookService>
