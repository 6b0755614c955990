import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type, type Static } from 'typebox'
import { errors } from '../../errors.js'
import { parseIdempotencyKey } from '../../provisioning/idempotency.js'
import type { DryRun } from '../../provisioning/dry-run.js'
import type { ProvisioningService } from '../../provisioning/service.js'
import { toRequestView } from '../views/provisioning.js'
import type { ProvisioningRecord } from '../../provisioning/ports.js'
import { intakeReplies, MAX_WAIT_SECONDS } from './intake-replies.js'
import type { WebhookSummary } from '../../webhooks/service.js'
import { BEARER_SECURITY, requireClient } from '../plugins/auth.js'
import { validationIssues } from '../plugins/errors.js'
import { problemExample, problemResponses, problemResponsesWith } from '../schemas/problem.js'
import { ACCEPTED_EXAMPLE, COMPLETED_EXAMPLE, documented, ProvisioningRequestSchema, REJECTED_EXAMPLE, withoutExamples } from '../schemas/provisioning.js'
import { DryRunResultSchema, NewHireSchema, RequestStatusSchema } from '../../provisioning/model.js'

/** 200 answers either a dry-run plan or, with `Prefer: wait`, a rejected or failed request. */
const DryRunOrRequestSchema = Type.Unsafe<Static<typeof ProvisioningRequestSchema> | Static<typeof DryRunResultSchema>>({
  anyOf: [withoutExamples(ProvisioningRequestSchema), withoutExamples(DryRunResultSchema)],
  description: 'Dry-run plan, or a rejected/failed request when waiting.',
  examples: [...((DryRunResultSchema as { examples?: unknown[] }).examples ?? []), REJECTED_EXAMPLE],
})

const IdParams = Type.Object({ id: Type.String({ pattern: '^prq_[0-9A-Z]{26}$', description: 'Request id.' }) })

export interface ProvisioningRoutesOptions {
  service: ProvisioningService
  dryRun: DryRun
  idempotencyTtlHours: number
  /** The ids of every configured API client, for the operators' bulk retry. */
  clientIds?: () => readonly string[]
  /** The state of a terminal request's webhook, shown on the request resource. */
  webhookSummary?: (record: ProvisioningRecord) => Promise<WebhookSummary | undefined>
}

export async function provisioningRoutes (base: FastifyInstance, opts: ProvisioningRoutesOptions): Promise<void> {
  const app = base.withTypeProvider<TypeBoxTypeProvider>()
  const { service } = opts
  const summary = async (record: ProvisioningRecord) => (record.webhookId !== undefined ? opts.webhookSummary?.(record) : undefined)

  const replies = intakeReplies(service, summary)

  app.post('/v1/provisioning-requests', {
    config: { scope: 'provisioning:write' },
    // A body that fails its schema is answered by the handler: schema and policy issues in one round.
    attachValidation: true,
    schema: {
      operationId: 'createProvisioningRequest',
      tags: ['provisioning'],
      summary: 'Provision a new hire (or validate one with ?dryRun=true)',
      description: [
        'Checks the new hire statically (schema, division and roles allowed for your client, group depth, email form), stores the request and queues it. The answer is **202** with `Location`; the job then validates against Genesys Cloud and provisions the user.',
        '',
        `**Idempotency-Key** (recommended for every retrying integration): the first outcome is kept for ${opts.idempotencyTtlHours} hours per client and replayed for the same body (\`Idempotent-Replayed: true\`); the same key with another body is 422; while the first call is still being accepted, 409. Keys are 1–255 printable ASCII characters, bare or as a quoted structured-field string.`,
        '',
        `**Prefer: wait=<seconds>** (≤ ${MAX_WAIT_SECONDS}) waits for the outcome: 201 when completed, 200 with the rejected or failed request, else 202.`,
        '',
        '**?dryRun=true** runs every check against live Genesys Cloud and returns the plan (the SCIM user that would be sent, grants with division ids, group memberships) and `issues[]`, writing nothing. A dry run that would need more Genesys calls than its allowance (`DRY_RUN_MAX_UPSTREAM_CALLS`, or the client\'s `upstream.maxCallsPerDryRun`) answers 422 `PROV_ERR_TOO_COSTLY` and sends nothing past it.',
        '',
        'A second request for an `hrId` that already has one in progress is 409 with the `Location` of the existing request.',
      ].join('\n'),
      security: BEARER_SECURITY,
      headers: Type.Object({
        'idempotency-key': Type.Optional(Type.String({ description: 'Unique key for this new hire, e.g. a UUID.' })),
        prefer: Type.Optional(Type.String({ description: 'wait=<seconds>' })),
      }),
      querystring: Type.Object({ dryRun: Type.Optional(Type.Boolean({ default: false, description: 'Validate against live Genesys Cloud and return the plan; nothing is written.' })) }, { additionalProperties: false }),
      body: NewHireSchema,
      response: {
        200: DryRunOrRequestSchema,
        201: documented(ProvisioningRequestSchema, 'Provisioned within the `Prefer: wait` time: the completed request.', [COMPLETED_EXAMPLE]),
        202: documented(ProvisioningRequestSchema, 'Accepted and queued; `Location` names the request (also when `Prefer: wait` ended before the outcome).', [ACCEPTED_EXAMPLE]),
        ...problemResponsesWith({
          409: problemExample(errors.conflict('Employee 167844 already has a provisioning request in progress (prq_01JD3W6Q4Z7Y8X9V0T1S2R3Q4P).')),
          422: problemExample(errors.policy('The new hire violates 1 policy; nothing was stored.', [{ code: 'division.notAllowed', path: '/division', message: 'this client may not provision into division "BPO Beta"' }])),
        }, 400, 409, 413, 415, 422, 503),
      },
    },
  }, async (request, reply) => {
    const client = requireClient(request)
    const invalid = request.validationError
    if (invalid) throw invalid.validationContext !== 'body' ? invalid : service.invalidBody(client, request.body, validationIssues('body', invalid.validation))
    if (request.query.dryRun) return reply.code(200).send(await opts.dryRun(client, request.body))
    const key = parseIdempotencyKey(request.headers['idempotency-key'])
    return replies.send(reply, await service.accept(client, request.body, key, request.id), { client, key, prefer: request.headers.prefer, requestId: request.id })
  })

  app.get('/v1/provisioning-requests/:id', {
    config: { scope: 'provisioning:read' },
    schema: {
      operationId: 'getProvisioningRequest',
      tags: ['provisioning'],
      summary: 'One provisioning request with its status, steps and issues',
      security: BEARER_SECURITY,
      params: IdParams,
      response: { 200: ProvisioningRequestSchema, ...problemResponses(400, 404) },
    },
  }, async (request) => {
    const record = await service.get(requireClient(request), request.params.id)
    return toRequestView(record, await summary(record))
  })

  app.get('/v1/provisioning-requests', {
    config: { scope: 'provisioning:read' },
    schema: {
      operationId: 'listProvisioningRequests',
      tags: ['provisioning'],
      summary: 'Your provisioning requests, newest first, with filters and a cursor',
      security: BEARER_SECURITY,
      querystring: Type.Object({
        status: Type.Optional(RequestStatusSchema),
        hrId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
        createdAfter: Type.Optional(Type.String({ format: 'date-time' })),
        limit: Type.Integer({ minimum: 1, maximum: 100, default: 25 }),
        cursor: Type.Optional(Type.String({ maxLength: 200, description: '`nextCursor` of the previous page.' })),
      }, { additionalProperties: false }),
      response: {
        200: Type.Object({
          items: Type.Array(ProvisioningRequestSchema),
          nextCursor: Type.Optional(Type.String()),
        }, { additionalProperties: false, examples: [{ items: [], nextCursor: 'MjAyNi0xMS0yMlQwOTowMDowMC4wMDBafHBycV8wMUpE' }] }),
        ...problemResponses(400),
      },
    },
  }, async (request) => {
    const { items, nextCursor } = await service.list(requireClient(request), {
      ...request.query,
      createdAfter: request.query.createdAfter === undefined ? undefined : new Date(request.query.createdAfter).toISOString(),
    })
    return { items: items.map((r) => toRequestView(r)), ...(nextCursor ? { nextCursor } : {}) }
  })

  app.post('/v1/provisioning-requests/:id/retry', {
    config: { scope: 'provisioning:write' },
    schema: {
      operationId: 'retryProvisioningRequest',
      tags: ['provisioning'],
      summary: 'Re-queue a failed request; finished steps are not repeated',
      security: BEARER_SECURITY,
      params: IdParams,
      response: { 202: documented(ProvisioningRequestSchema, 'Queued again from where its steps stopped.', [{ ...ACCEPTED_EXAMPLE, status: 'provisioning', transitions: [...ACCEPTED_EXAMPLE.transitions, { status: 'failed', at: '2026-11-22T09:00:04.000Z' }, { status: 'provisioning', at: '2026-11-22T10:15:00.000Z' }], updatedAt: '2026-11-22T10:15:00.000Z', attempts: 3 }]), ...problemResponses(400, 404, 409) },
    },
  }, async (request, reply) => {
    const record = await service.retry(requireClient(request), request.params.id)
    return reply.code(202).header('location', `/v1/provisioning-requests/${record.id}`).send(toRequestView(record))
  })

  app.post('/v1/provisioning-requests/:id/cancel', {
    config: { scope: 'provisioning:write' },
    schema: {
      operationId: 'cancelProvisioningRequest',
      tags: ['provisioning'],
      summary: 'Withdraw a request that has not started (a scheduled change, a held termination or move)',
      description: 'The request ends `cancelled` and nothing of it is done (a termination takes its scheduled hard delete with it); the worker is free for another change. 409 once it has started.',
      security: BEARER_SECURITY,
      params: IdParams,
      response: { 200: documented(ProvisioningRequestSchema, 'Cancelled.', [{ ...ACCEPTED_EXAMPLE, kind: 'terminate', status: 'cancelled', transitions: [{ status: 'held', at: '2026-11-22T09:00:00.000Z' }, { status: 'cancelled', at: '2026-11-22T09:30:00.000Z' }] }]), ...problemResponses(400, 404, 409) },
    },
  }, async (request) => toRequestView(await service.cancel(requireClient(request), request.params.id)))

  app.post('/v1/provisioning-requests/:id/confirm', {
    config: { scope: 'admin' },
    schema: {
      operationId: 'confirmProvisioningRequest',
      tags: ['provisioning'],
      summary: 'Operators: release a termination or move held by the mass-change brake',
      description: 'A termination or move beyond the brake (`LIFECYCLE_BRAKE_PERCENT` of the client\'s managed workers, or `LIFECYCLE_BRAKE_COUNT`, within an hour) waits in status `held`; this queues it. Any client\'s request; 409 when it is not held.',
      security: BEARER_SECURITY,
      params: IdParams,
      response: { 202: documented(ProvisioningRequestSchema, 'Released and queued.', [{ ...ACCEPTED_EXAMPLE, kind: 'terminate', transitions: [{ status: 'held', at: '2026-11-22T09:00:00.000Z' }, { status: 'accepted', at: '2026-11-22T09:30:00.000Z' }] }]), ...problemResponses(400, 404, 409) },
    },
  }, async (request, reply) => {
    const record = await service.confirm(request.params.id)
    return reply.code(202).header('location', `/v1/provisioning-requests/${record.id}`).send(toRequestView(record))
  })

  app.post('/v1/provisioning-requests/confirm', {
    config: { scope: 'admin' },
    schema: {
      operationId: 'confirmHeldProvisioningRequests',
      tags: ['provisioning'],
      summary: 'Operators: release the held terminations and moves of one client, oldest first',
      security: BEARER_SECURITY,
      body: Type.Object({
        clientId: Type.String({ minLength: 1, maxLength: 64, description: 'The API client whose held requests are released.' }),
        limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
      }, { additionalProperties: false, examples: [{ clientId: 'workday' }] }),
      response: {
        200: Type.Object({
          confirmed: Type.Array(Type.String(), { description: 'The requests released, oldest first.' }),
          more: Type.Boolean({ description: 'True when further held requests remain: call again.' }),
        }, { additionalProperties: false, examples: [{ confirmed: ['prq_01JD3W6Q4Z7Y8X9V0T1S2R3Q4P'], more: false }] }),
        ...problemResponses(400),
      },
    },
  }, async (request) => service.confirmHeld(request.body.clientId, request.body.limit ?? 100))

  app.post('/v1/provisioning-requests/retry', {
    config: { scope: 'admin' },
    schema: {
      operationId: 'retryProvisioningRequests',
      tags: ['provisioning'],
      summary: 'Operators: re-queue every failed request matching the filters (all clients)',
      description: 'For recovering after a fixed outage or misconfiguration, e.g. `{"code":"PROV_ERR_CONFIGURATION"}` once the Genesys credentials are corrected. Finished steps are not repeated; a request whose employee has another request in progress is skipped. At most `limit` per call; `more: true` means call again.',
      security: BEARER_SECURITY,
      body: Type.Object({
        status: Type.Optional(Type.Unsafe<'failed' | 'rejected'>({ type: 'string', enum: ['failed', 'rejected'], default: 'failed', description: 'Which terminal requests: failed (default) or rejected (validated again).' })),
        code: Type.Optional(Type.String({ pattern: '^PROV_ERR_[A-Z_]{1,40}$', description: 'Only requests that ended with this error code.' })),
        createdAfter: Type.Optional(Type.String({ format: 'date-time', description: 'Only requests created after this instant.' })),
        clientId: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'Only this API client\'s requests.' })),
        limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
      }, { additionalProperties: false, examples: [{ code: 'PROV_ERR_CONFIGURATION', createdAfter: '2026-11-22T00:00:00Z' }] }),
      response: {
        200: Type.Object({
          retried: Type.Array(Type.Object({ id: Type.String(), clientId: Type.String() }, { additionalProperties: false })),
          skipped: Type.Array(Type.Object({ id: Type.String(), clientId: Type.String(), reason: Type.String() }, { additionalProperties: false })),
          more: Type.Boolean({ description: 'True when further requests match: call again.' }),
        }, { additionalProperties: false, examples: [{ retried: [{ id: 'prq_01JD3W6Q4Z7Y8X9V0T1S2R3Q4P', clientId: 'hris' }], skipped: [], more: false }] }),
        ...problemResponses(400),
      },
    },
  }, async (request) => {
    const { status = 'failed', code, createdAfter, clientId, limit = 100 } = request.body
    const filter = { status, code, clientId, createdAfter: createdAfter === undefined ? undefined : new Date(createdAfter).toISOString() }
    return service.retryMatching(opts.clientIds?.() ?? [], filter, limit)
  })
}
