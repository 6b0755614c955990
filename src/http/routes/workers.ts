import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type, type Static, type TSchema } from 'typebox'
import { errors } from '../../errors.js'
import { parseIdempotencyKey } from '../../provisioning/idempotency.js'
import { HR_ID_PATTERN, WorkerDesiredSchema, WorkerPatchSchema, WorkerStatusSchema } from '../../provisioning/model.js'
import { WORKERS_PATH, type ProvisioningService } from '../../provisioning/service.js'
import { toWorkerView } from '../views/provisioning.js'
import { BEARER_SECURITY, requireClient } from '../plugins/auth.js'
import { problemExample, problemResponses, problemResponsesWith } from '../schemas/problem.js'
import { ACCEPTED_EXAMPLE, COMPLETED_EXAMPLE, documented, ProvisioningRequestSchema, REJECTED_EXAMPLE, withoutExamples, WorkerSchema } from '../schemas/provisioning.js'
import { intakeReplies, MAX_WAIT_SECONDS } from './intake-replies.js'
import type { ProvisioningRoutesOptions } from './provisioning.js'

const HrIdParams = Type.Object({ hrId: Type.String({ minLength: 1, maxLength: 64, pattern: HR_ID_PATTERN, description: 'The worker\'s HR id.' }) })

const MERGE_PATCH = 'application/merge-patch+json'

const WORKER_EXAMPLE = ((WorkerSchema as { examples?: unknown[] }).examples ?? [])[0]
const TERMINATE_EXAMPLE = { ...ACCEPTED_EXAMPLE, kind: 'terminate' as const, genesysUserId: '8f1d2c3b-4a5e-4f60-8123-9abcdef01234' }

/** 200 answers either no change (the worker) or, with `Prefer: wait`, a rejected or failed request. */
const WorkerOrRequestSchema = Type.Unsafe<Static<typeof WorkerSchema> | Static<typeof ProvisioningRequestSchema>>({
  anyOf: [withoutExamples(WorkerSchema), withoutExamples(ProvisioningRequestSchema)],
  description: 'Nothing differs: the worker as the service manages it. With `Prefer: wait`: the rejected or failed request.',
  examples: [WORKER_EXAMPLE, REJECTED_EXAMPLE],
})

const changeResponses = {
  200: WorkerOrRequestSchema,
  201: documented(ProvisioningRequestSchema, 'Done within the `Prefer: wait` time: the completed request.', [{ ...COMPLETED_EXAMPLE, kind: 'terminate' }]),
  202: documented(ProvisioningRequestSchema, 'The change is queued as a provisioning request (`kind` says which); `Location` names it.', [TERMINATE_EXAMPLE]),
  ...problemResponsesWith({
    409: problemExample(errors.conflict('Employee 167844 already has a provisioning request in progress (prq_01JD3W6Q4Z7Y8X9V0T1S2R3Q4P).')),
    422: problemExample(errors.policy('The worker violates 1 policy; nothing was stored.', [{ code: 'division.notAllowed', path: '/division', message: 'this client may not provision into division "BPO Beta"' }])),
  }, 400, 404, 409, 413, 415, 422, 503),
}

const changeHeaders = Type.Object({
  'idempotency-key': Type.Optional(Type.String({ description: 'Unique key for this change, e.g. a UUID.' })),
  prefer: Type.Optional(Type.String({ description: 'wait=<seconds>' })),
})

/** The route schema of a change (PUT or PATCH): what differs is the body and the words. */
function changeSchema<B extends TSchema> (route: { operationId: string, summary: string, what: string, body: B, consumes?: string[] }) {
  return {
    operationId: route.operationId,
    tags: ['workers'],
    summary: route.summary,
    description: changeDescription(route.what),
    security: BEARER_SECURITY,
    ...(route.consumes ? { consumes: route.consumes } : {}),
    params: HrIdParams,
    headers: changeHeaders,
    body: route.body,
    response: changeResponses,
  }
}

const changeDescription = (what: string) => [
  what,
  '',
  'Compared with what the service manages for the worker: a worker it does not manage yet is a **hire**; `status: "terminated"` of an active worker is a **terminate** (Genesys deactivates the user at once, then the service removes it from every group it added; role grants are kept for a rehire); `status: "active"` of a terminated worker is a **rehire** (the user is reactivated and brought to the desired state); other differences of an active worker are an **update**, or a **move** when the division changes (one SCIM PATCH of what differs, then the roles and groups the service granted added and removed). The same state again answers **200** with the worker. An `effectiveAt` in the future **schedules** the change (202, status `scheduled`; a date without a time is midnight in `HR_TIME_ZONE`); it is derived from the state the worker\'s earlier scheduled changes lead to, and derived again when it takes effect. `"supersede": true` cancels the worker\'s scheduled changes effective at the same time or later.',
  '',
  `**Idempotency-Key** and **Prefer: wait=<seconds>** (≤ ${MAX_WAIT_SECONDS}) as on \`POST /v1/provisioning-requests\`.`,
].join('\n')

/** The worker lifecycle: desired states in, provisioning requests out; the registry read back. */
export async function workerRoutes (base: FastifyInstance, opts: ProvisioningRoutesOptions): Promise<void> {
  const app = base.withTypeProvider<TypeBoxTypeProvider>()
  const { service } = opts
  const replies = intakeReplies(service, async (record) => (record.webhookId !== undefined ? opts.webhookSummary?.(record) : undefined))
  /** A change (PUT or PATCH) handed to the service, answered as stored or after `Prefer: wait`. */
  async function answer (request: FastifyRequest, reply: FastifyReply, hrId: string, change: Parameters<ProvisioningService['desire']>[2]): Promise<FastifyReply> {
    const client = requireClient(request)
    const key = parseIdempotencyKey(request.headers['idempotency-key'])
    const prefer = request.headers.prefer
    const accepted = await service.desire(client, hrId, change, key, request.id)
    return replies.send(reply, accepted, { client, key, prefer: typeof prefer === 'string' ? prefer : undefined, requestId: request.id })
  }
  // RFC 7396 bodies are JSON; parsed (and bounded) like any JSON body.
  app.addContentTypeParser(MERGE_PATCH, { parseAs: 'string' }, app.getDefaultJsonParser('error', 'error'))

  app.put(`${WORKERS_PATH}/:hrId`, {
    config: { scope: 'provisioning:write' },
    schema: changeSchema({
      operationId: 'putWorker',
      summary: 'The desired state of one worker: hire, update, move, terminate or rehire',
      what: 'Declarative: send what the worker should be, not which call to make.',
      body: WorkerDesiredSchema,
    }),
  }, async (request, reply) => answer(request, reply, request.params.hrId, { method: 'PUT', body: request.body }))

  app.patch(`${WORKERS_PATH}/:hrId`, {
    config: { scope: 'provisioning:write' },
    schema: changeSchema({
      operationId: 'patchWorker',
      summary: 'A partial change of one worker (JSON merge patch), e.g. {"status":"terminated"}',
      what: `A JSON merge patch (RFC 7396, \`Content-Type: ${MERGE_PATCH}\`) of the worker's desired state: the fields present replace the recorded ones, the others are kept. \`{"status":"terminated"}\` terminates; \`{"status":"active"}\` rehires. Only for a worker the service manages (404 otherwise).`,
      consumes: [MERGE_PATCH],
      body: WorkerPatchSchema,
    }),
  }, async (request, reply) => answer(request, reply, request.params.hrId, { method: 'PATCH', body: request.body }))

  app.get(`${WORKERS_PATH}/:hrId`, {
    config: { scope: 'provisioning:read' },
    schema: {
      operationId: 'getWorker',
      tags: ['workers'],
      summary: 'What the service manages for one worker: its Genesys user, division, grants, groups and status',
      security: BEARER_SECURITY,
      params: HrIdParams,
      response: { 200: WorkerSchema, ...problemResponses(400, 404) },
    },
  }, async (request) => {
    const client = requireClient(request)
    const entry = await service.worker(client, request.params.hrId)
    return toWorkerView(entry, await service.scheduled(client, entry.hrId))
  })

  app.get(WORKERS_PATH, {
    config: { scope: 'provisioning:read' },
    schema: {
      operationId: 'listWorkers',
      tags: ['workers'],
      summary: 'Your managed workers in HR id order, with filters and a cursor',
      description: 'A page may hold fewer than `limit` workers when filters skip some; follow `nextCursor` until it is absent.',
      security: BEARER_SECURITY,
      querystring: Type.Object({
        status: Type.Optional(WorkerStatusSchema),
        division: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Division name (case-insensitive) or id.' })),
        limit: Type.Integer({ minimum: 1, maximum: 100, default: 25 }),
        cursor: Type.Optional(Type.String({ maxLength: 200, description: '`nextCursor` of the previous page.' })),
      }, { additionalProperties: false }),
      response: {
        200: Type.Object({ items: Type.Array(WorkerSchema), nextCursor: Type.Optional(Type.String()) }, { additionalProperties: false, examples: [{ items: WORKER_EXAMPLE ? [WORKER_EXAMPLE] : [] }] }),
        ...problemResponses(400),
      },
    },
  }, async (request) => {
    const client = requireClient(request)
    const { items, nextCursor } = await service.workers(client, request.query)
    const views = await Promise.all(items.map(async (entry) => toWorkerView(entry, await service.scheduled(client, entry.hrId))))
    return { items: views, ...(nextCursor ? { nextCursor } : {}) }
  })
}
