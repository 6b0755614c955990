import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { Issue } from '../../errors.js'
import { BATCHES_PATH, type BatchEntry, type BatchService } from '../../batches/service.js'
import { MAX_BATCH_RECORDS } from '../../batches/ports.js'
import { parseIdempotencyKey } from '../../provisioning/idempotency.js'
import { HR_ID_PATTERN, type WorkerDesired } from '../../provisioning/model.js'
import { bodyAjv } from '../ajv.js'
import { BEARER_SECURITY, requireClient } from '../plugins/auth.js'
import { validationIssues } from '../plugins/errors.js'
import { problemResponses } from '../schemas/problem.js'
import { BatchRecordSchema, WorkerBatchBodySchema, WorkerBatchSchema, type WorkerBatchView } from '../schemas/batches.js'

export interface BatchRoutesOptions {
  batches: BatchService
  /** This route's own body limit (the rest of the API keeps BODY_LIMIT_BYTES). */
  bodyLimit: number
}

const checkRecord = bodyAjv.compile<WorkerDesired & { hrId: string }>(BatchRecordSchema)
const HR_ID = new RegExp(HR_ID_PATTERN)

/** Each record checked on its own against the record schema; a later record repeating an HR id is refused. */
export function readRecords (workers: readonly unknown[]): BatchEntry[] {
  const seen = new Set<string>()
  return workers.map((raw, index): BatchEntry => {
    const candidate = typeof raw === 'object' && raw !== null ? (raw as { hrId?: unknown }).hrId : undefined
    const hrId = typeof candidate === 'string' && HR_ID.test(candidate) ? candidate : undefined
    const head = { index, ...(hrId !== undefined ? { hrId } : {}) }
    const at = (issues: Issue[]) => issues.map((i) => ({ ...i, path: `/workers/${index}${i.path === '/' ? '' : i.path}` }))
    if (!checkRecord(raw)) return { ...head, issues: at(validationIssues('body', checkRecord.errors ?? [])) }
    const { hrId: id, ...desired } = raw
    if (seen.has(id)) return { ...head, issues: at([{ code: 'batch.duplicateHrId', path: '/hrId', message: `HR id ${id} appears earlier in this batch; send one record per worker` }]) }
    seen.add(id)
    return { index, hrId: id, desired }
  })
}

const BatchIdParams = Type.Object({ id: Type.String({ pattern: '^wbt_[A-Za-z0-9_-]{10,64}$', description: 'The batch id.' }) })

/** Batch intake: many desired states in one call, with per-record results. */
export async function batchRoutes (base: FastifyInstance, opts: BatchRoutesOptions): Promise<void> {
  const app = base.withTypeProvider<TypeBoxTypeProvider>()
  const { batches } = opts
  const view = async (batch: Awaited<ReturnType<BatchService['get']>>, page: { limit: number, cursor?: string }): Promise<WorkerBatchView> => {
    const v = await batches.view(batch, page)
    return {
      id: batch.id,
      status: batch.status,
      dryRun: batch.dryRun,
      total: batch.total,
      counts: { ...batch.counts, ...v.runCounts },
      createdAt: batch.createdAt,
      updatedAt: batch.updatedAt,
      ...(batch.completedAt !== undefined ? { completedAt: batch.completedAt } : {}),
      results: v.results,
      ...(v.nextCursor !== undefined ? { nextCursor: v.nextCursor } : {}),
    }
  }

  app.post(BATCHES_PATH, {
    bodyLimit: opts.bodyLimit,
    config: { scope: 'provisioning:write' },
    schema: {
      operationId: 'createWorkerBatch',
      tags: ['workers'],
      summary: `Many workers' desired states in one call (up to ${MAX_BATCH_RECORDS}), with a result per record`,
      description: [
        `Each record is \`PUT /v1/workers/{hrId}\`'s body plus \`hrId\`, taken in on its own: an invalid record is **rejected** with its own \`issues[]\` (paths \`/workers/{index}/…\`) and never fails the others; a valid one becomes a provisioning request (**accepted**, with its \`requestId\`) or changes nothing (**unchanged**). The answer is **202** with the batch resource (and its first 100 results) once every record has its outcome; the requests then run through the same rate budget and per-client share as single requests. A \`worker-batch.completed\` webhook follows when every accepted request is terminal.`,
        '',
        `This route takes bodies up to ${opts.bodyLimit} bytes (\`WORKER_BATCH_BODY_LIMIT_BYTES\`); the rest of the API keeps its own limit.`,
        '',
        '**Idempotency-Key**: the batch id derives from it, so a retry (after a timeout or a crash) answers the same batch, finishing its intake if it was interrupted; the same key with another body is 422.',
      ].join('\n'),
      security: BEARER_SECURITY,
      headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String({ description: 'Unique key for this batch, e.g. a UUID.' })) }),
      body: WorkerBatchBodySchema,
      response: { 202: WorkerBatchSchema, ...problemResponses(400, 413, 415, 422, 503) },
    },
  }, async (request, reply) => {
    const client = requireClient(request)
    const key = parseIdempotencyKey(request.headers['idempotency-key'])
    const { workers, dryRun = false } = request.body
    const { batch, replayed } = await batches.accept(client, readRecords(workers), { dryRun, body: request.body, originRequestId: request.id, ...(key !== undefined ? { idempotencyKey: key } : {}) })
    if (replayed) reply.header('idempotent-replayed', 'true')
    return reply.code(202).header('location', `${BATCHES_PATH}/${batch.id}`).send(await view(batch, { limit: 100 }))
  })

  app.get(`${BATCHES_PATH}/:id`, {
    config: { scope: 'provisioning:read' },
    schema: {
      operationId: 'getWorkerBatch',
      tags: ['workers'],
      summary: 'A worker batch: counts by outcome and a page of per-record results',
      security: BEARER_SECURITY,
      params: BatchIdParams,
      querystring: Type.Object({
        limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
        cursor: Type.Optional(Type.String({ maxLength: 200, description: '`nextCursor` of the previous page.' })),
      }, { additionalProperties: false }),
      response: { 200: WorkerBatchSchema, ...problemResponses(400, 404) },
    },
  }, async (request) => {
    const batch = await batches.get(requireClient(request), request.params.id)
    return view(batch, { limit: request.query.limit, ...(request.query.cursor !== undefined ? { cursor: request.query.cursor } : {}) })
  })
}
