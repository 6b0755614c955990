import { Type, type Static } from 'typebox'
import { DELIVERY_STATUSES, WEBHOOK_EVENT_TYPES } from '../../webhooks/ports.js'

/** Schemas of the webhook API: the caller's endpoint, its deliveries, replays. */

const DeliveryStatusSchema = Type.Unsafe<typeof DELIVERY_STATUSES[number]>({
  type: 'string',
  enum: [...DELIVERY_STATUSES],
  description: '`pending` (queued or waiting to retry), `delivered` (2xx), `dead` (every scheduled attempt failed; redeliver to replay), `disabled` (held: the endpoint answered 410 Gone).',
})

export const WebhookSummarySchema = Type.Object({
  deliveryId: Type.String({ description: 'The `webhook-id` of the outcome event.' }),
  status: DeliveryStatusSchema,
  attempts: Type.Integer(),
  lastAttemptAt: Type.Optional(Type.String({ format: 'date-time' })),
  lastStatusCode: Type.Optional(Type.Integer()),
  nextAttemptAt: Type.Optional(Type.String({ format: 'date-time' })),
}, { additionalProperties: false, description: 'The webhook reporting this outcome to your endpoint.' })

export type WebhookSummaryView = Static<typeof WebhookSummarySchema>

export const DeliverySchema = Type.Object({
  id: Type.String({ description: 'The `webhook-id`, the same on every attempt and replay.' }),
  type: Type.Unsafe<typeof WEBHOOK_EVENT_TYPES[number]>({ type: 'string', enum: [...WEBHOOK_EVENT_TYPES] }),
  subjectId: Type.String({ description: 'The provisioning request (or group sync) the event reports on.' }),
  status: DeliveryStatusSchema,
  createdAt: Type.String({ format: 'date-time' }),
  deliveredAt: Type.Optional(Type.String({ format: 'date-time' })),
  nextAttemptAt: Type.Optional(Type.String({ format: 'date-time' })),
  generation: Type.Integer({ description: '0 for the original delivery, +1 per redelivery.' }),
  attempts: Type.Array(Type.Object({
    generation: Type.Integer(),
    attempt: Type.Integer({ minimum: 1 }),
    at: Type.String({ format: 'date-time' }),
    durationMs: Type.Number(),
    statusCode: Type.Optional(Type.Integer()),
    error: Type.Optional(Type.String()),
  }, { additionalProperties: false })),
  payload: Type.Object({
    type: Type.String(),
    timestamp: Type.String({ format: 'date-time' }),
    data: Type.Record(Type.String(), Type.Unknown()),
  }, { additionalProperties: false, description: 'The event body exactly as sent.' }),
}, {
  additionalProperties: false,
  examples: [{
    id: 'msg_2Qv4Yk0c6xN3s9dJ1hTzLb8wRa',
    type: 'provisioning.completed',
    subjectId: 'prq_01JD3W6Q4Z7Y8X9V0T1S2R3Q4P',
    status: 'delivered',
    createdAt: '2026-11-22T09:00:01.200Z',
    deliveredAt: '2026-11-22T09:00:06.310Z',
    generation: 0,
    attempts: [
      { generation: 0, attempt: 1, at: '2026-11-22T09:00:01.230Z', durationMs: 48, statusCode: 503, error: 'HTTP 503' },
      { generation: 0, attempt: 2, at: '2026-11-22T09:00:06.270Z', durationMs: 40, statusCode: 204 },
    ],
    payload: {
      type: 'provisioning.completed',
      timestamp: '2026-11-22T09:00:01.200Z',
      data: { requestId: 'prq_01JD3W6Q4Z7Y8X9V0T1S2R3Q4P', hrId: '167844', email: 'ada.lovelace@example.com', genesysUserId: '8f1d2c3b-4a5e-4f60-8123-9abcdef01234' },
    },
  }],
})

export const EndpointSchema = Type.Object({
  url: Type.String({ description: 'Where events are posted (query values and credentials masked).' }),
  events: Type.Array(Type.String(), { description: 'Event types sent to this endpoint.' }),
  secrets: Type.Array(Type.Object({ fingerprint: Type.String() }, { additionalProperties: false }), {
    description: 'One signature per secret is sent; fingerprints (SHA-256 of the key) identify them, the secrets are never shown.',
  }),
  status: Type.Union([Type.Literal('enabled'), Type.Literal('disabled')]),
  disabled: Type.Optional(Type.Object({
    at: Type.String({ format: 'date-time' }),
    deliveryId: Type.String(),
    statusCode: Type.Integer(),
  }, { additionalProperties: false })),
  retryScheduleSeconds: Type.Array(Type.Number(), { description: 'Gaps between attempts (each ±20 %); after the last one a delivery is dead-lettered.' }),
}, {
  additionalProperties: false,
  examples: [{
    url: 'https://hris.example.com/hooks/genesys?token=***',
    events: ['provisioning.completed', 'provisioning.rejected', 'provisioning.failed', 'group.sync.completed', 'worker-batch.completed', 'worker.drift.detected'],
    secrets: [{ fingerprint: 'sha256:3f7a9c0e12b45d68' }],
    status: 'enabled',
    retryScheduleSeconds: [5, 300, 1800, 7200, 18000, 36000, 36000],
  }],
})
