import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { DELIVERY_STATUSES } from '../../webhooks/ports.js'
import { toDeliveryView, type WebhookService } from '../../webhooks/service.js'
import { BEARER_SECURITY, requireClient } from '../plugins/auth.js'
import { problemResponses } from '../schemas/problem.js'
import { DeliverySchema, EndpointSchema } from '../schemas/webhooks.js'

export interface WebhookRoutesOptions {
  service: WebhookService
}

const IdParams = Type.Object({ id: Type.String({ pattern: '^msg_[A-Za-z0-9_-]{26}$', description: 'Delivery id (the `webhook-id`).' }) })

const VERIFY = 'Every POST carries `webhook-id`, `webhook-timestamp` and `webhook-signature` (Standard Webhooks: `v1,` + base64 HMAC-SHA256 of `id.timestamp.body` with your `whsec_` secret); verify it with any Standard Webhooks library and drop duplicates by `webhook-id`.'

export async function webhookRoutes (base: FastifyInstance, opts: WebhookRoutesOptions): Promise<void> {
  const app = base.withTypeProvider<TypeBoxTypeProvider>()
  const { service } = opts

  app.get('/v1/webhook-endpoint', {
    config: { scope: 'provisioning:read' },
    schema: {
      operationId: 'getWebhookEndpoint',
      tags: ['webhooks'],
      summary: 'Your webhook endpoint: URL, events, secret fingerprints, state',
      description: VERIFY,
      security: BEARER_SECURITY,
      response: { 200: EndpointSchema, ...problemResponses(404) },
    },
  }, async (request) => service.endpoint(requireClient(request)))

  app.post('/v1/webhook-endpoint/enable', {
    config: { scope: 'provisioning:write' },
    schema: {
      operationId: 'enableWebhookEndpoint',
      tags: ['webhooks'],
      summary: 'Enable an endpoint that answered 410 Gone; held deliveries can then be redelivered',
      security: BEARER_SECURITY,
      response: { 200: EndpointSchema, ...problemResponses(404) },
    },
  }, async (request) => service.enable(requireClient(request)))

  app.get('/v1/webhook-deliveries', {
    config: { scope: 'provisioning:read' },
    schema: {
      operationId: 'listWebhookDeliveries',
      tags: ['webhooks'],
      summary: 'Your webhook deliveries with every attempt, newest first',
      description: 'Filter by `requestId` (the provisioning request or group sync reported on) and `status`; `status=dead` is the dead-letter list.',
      security: BEARER_SECURITY,
      querystring: Type.Object({
        requestId: Type.Optional(Type.String({ pattern: '^[a-z]{3}_[0-9A-Z]{26}$' })),
        status: Type.Optional(Type.Unsafe<typeof DELIVERY_STATUSES[number]>({ type: 'string', enum: [...DELIVERY_STATUSES] })),
        limit: Type.Integer({ minimum: 1, maximum: 100, default: 25 }),
        cursor: Type.Optional(Type.String({ maxLength: 200, description: '`nextCursor` of the previous page.' })),
      }, { additionalProperties: false }),
      response: {
        200: Type.Object({ items: Type.Array(DeliverySchema), nextCursor: Type.Optional(Type.String()) }, {
          additionalProperties: false,
          examples: [{ items: (DeliverySchema as { examples?: unknown[] }).examples ?? [], nextCursor: 'MjAyNi0xMS0yMlQwOTowMDowMS4yMDBafG1zZ18yUXY0' }],
        }),
        ...problemResponses(400),
      },
    },
  }, async (request) => {
    const { requestId, ...rest } = request.query
    const page = await service.list(requireClient(request), { ...rest, ...(requestId !== undefined ? { subjectId: requestId } : {}) })
    return { items: page.items.map(toDeliveryView), ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) }
  })

  app.get('/v1/webhook-deliveries/:id', {
    config: { scope: 'provisioning:read' },
    schema: {
      operationId: 'getWebhookDelivery',
      tags: ['webhooks'],
      summary: 'One webhook delivery with its payload and attempts',
      security: BEARER_SECURITY,
      params: IdParams,
      response: { 200: DeliverySchema, ...problemResponses(400, 404) },
    },
  }, async (request) => toDeliveryView(await service.get(requireClient(request), request.params.id)))

  app.post('/v1/webhook-deliveries/:id/redeliver', {
    config: { scope: 'provisioning:write' },
    schema: {
      operationId: 'redeliverWebhook',
      tags: ['webhooks'],
      summary: 'Send an event again (same webhook-id and body, new timestamp and signature)',
      description: 'Replays a delivered, dead-lettered or held delivery with a fresh retry schedule. 409 while it is still scheduled or the endpoint is disabled.',
      security: BEARER_SECURITY,
      params: IdParams,
      response: { 202: DeliverySchema, ...problemResponses(400, 404, 409) },
    },
  }, async (request, reply) => {
    const d = await service.redeliver(requireClient(request), request.params.id)
    return reply.code(202).header('location', `/v1/webhook-deliveries/${d.id}`).send(toDeliveryView(d))
  })
}
