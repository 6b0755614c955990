import { Type, type Static } from 'typebox'
import { BATCH_STATUSES, MAX_BATCH_RECORDS, RECORD_OUTCOMES } from '../../batches/ports.js'
import { IssueRef, NewHireSchema, RequestKindSchema, RequestStatusSchema, WorkerDesiredSchema } from '../../provisioning/model.js'

/** One record of a batch: a worker's desired state with its HR id (as `PUT /v1/workers/{hrId}` takes it). */
export const BatchRecordSchema = Type.Object({
  hrId: NewHireSchema.properties.hrId,
  ...WorkerDesiredSchema.properties,
}, { additionalProperties: false })

export const WorkerBatchBodySchema = Type.Object({
  workers: Type.Array(Type.Unknown({ description: 'A worker\'s desired state with its `hrId`: the body of `PUT /v1/workers/{hrId}` plus `hrId`. Each record is validated on its own: an invalid one is rejected with its issues and the others go on.' }), { minItems: 1, maxItems: MAX_BATCH_RECORDS }),
  dryRun: Type.Optional(Type.Boolean({ default: false, description: 'Validate each record and say what it would change (`planned` with `change`, or `unchanged`); nothing is stored but the batch resource.' })),
}, {
  additionalProperties: false,
  examples: [{
    workers: [
      { hrId: '167844', email: 'grace.hopper@example.com', givenName: 'Grace', familyName: 'Hopper', division: 'BPO Alpha', roles: ['Agent'] },
      { hrId: '167845', email: 'alan.turing@example.com', givenName: 'Alan', familyName: 'Turing', division: 'BPO Alpha', status: 'terminated' },
    ],
  }],
})

const Count = Type.Integer({ minimum: 0 })

export const BatchRecordResultSchema = Type.Object({
  index: Type.Integer({ minimum: 0, description: 'The record\'s position in `workers`.' }),
  hrId: Type.Optional(Type.String()),
  outcome: Type.Unsafe<typeof RECORD_OUTCOMES[number]>({ type: 'string', enum: [...RECORD_OUTCOMES], description: '`accepted` (a provisioning request), `unchanged`, `rejected` (with `issues`), or in a dry run `planned`.' }),
  change: Type.Optional(Type.Union([RequestKindSchema, Type.Literal('none')], { description: 'What the record changes: hire, update, move, terminate, rehire; none when unchanged.' })),
  requestId: Type.Optional(Type.String({ description: 'Its provisioning request (`GET /v1/provisioning-requests/{id}`).' })),
  requestStatus: Type.Optional(RequestStatusSchema),
  issues: Type.Optional(Type.Array(IssueRef, { description: 'Why the record was rejected; paths point into the batch body (`/workers/{index}/…`).' })),
}, { additionalProperties: false })

export const WorkerBatchSchema = Type.Object({
  id: Type.String(),
  status: Type.Unsafe<typeof BATCH_STATUSES[number]>({ type: 'string', enum: [...BATCH_STATUSES], description: '`accepting` while records are taken in, `accepted` while their requests run, `completed` once every request is terminal.' }),
  dryRun: Type.Boolean(),
  total: Count,
  counts: Type.Object({
    accepted: Count,
    unchanged: Count,
    rejected: Count,
    planned: Count,
    completed: Type.Integer({ minimum: 0, description: 'Accepted records whose request completed.' }),
    failed: Type.Integer({ minimum: 0, description: 'Accepted records whose request ended otherwise (rejected upstream, failed, cancelled).' }),
    pending: Type.Integer({ minimum: 0, description: 'Accepted records whose request is still running or scheduled.' }),
  }, { additionalProperties: false }),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
  completedAt: Type.Optional(Type.String({ format: 'date-time' })),
  results: Type.Array(BatchRecordResultSchema, { description: 'One page of per-record results, in record order.' }),
  nextCursor: Type.Optional(Type.String({ description: 'Pass as `cursor` for the next page of results.' })),
}, { additionalProperties: false })

export type WorkerBatchView = Static<typeof WorkerBatchSchema>
