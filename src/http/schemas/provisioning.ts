import { Type, type Static, type TSchema } from 'typebox'
import { IssueRef, NewHireSchema, RequestKindSchema, RequestStatusSchema as StatusSchema, WorkerStatusSchema } from '../../provisioning/model.js'
import { WebhookSummarySchema } from './webhooks.js'

const StepSchema = Type.Object({
  name: Type.String(),
  status: Type.Union([Type.Literal('done'), Type.Literal('skipped')]),
  at: Type.String({ format: 'date-time' }),
  durationMs: Type.Number(),
  detail: Type.Record(Type.String(), Type.Unknown()),
}, { additionalProperties: false })

export const ProvisioningRequestSchema = Type.Object({
  id: Type.String(),
  kind: RequestKindSchema,
  status: StatusSchema,
  effectiveAt: Type.Optional(Type.String({ format: 'date-time', description: 'When a scheduled change takes effect (status `scheduled` until then).' })),
  hardDelete: Type.Optional(Type.Literal(true, { description: 'A termination that deletes the terminated Genesys user for good (`TERMINATION_DELETE_AFTER_DAYS` after its termination).' })),
  batchId: Type.Optional(Type.String({ description: 'The worker batch (`POST /v1/worker-batches`) this request came in with.' })),
  hrId: Type.String(),
  email: Type.String(),
  division: Type.Optional(Type.String()),
  genesysUserId: Type.Optional(Type.String()),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
  transitions: Type.Array(Type.Object({ status: StatusSchema, at: Type.String({ format: 'date-time' }) }, { additionalProperties: false })),
  steps: Type.Array(StepSchema),
  issues: Type.Optional(Type.Array(IssueRef)),
  error: Type.Optional(Type.Object({
    code: Type.String(),
    message: Type.String(),
    genesysCode: Type.Optional(Type.String()),
    correlationId: Type.Optional(Type.String()),
  }, { additionalProperties: false })),
  notes: Type.Optional(Type.Array(Type.String(), { description: 'Facts about the run that are neither issues nor errors.' })),
  attempts: Type.Integer(),
  webhook: Type.Optional(WebhookSummarySchema),
  hire: NewHireSchema,
}, {
  additionalProperties: false,
  examples: [{
    id: 'prq_01JD3W6Q4Z7Y8X9V0T1S2R3Q4P',
    kind: 'hire',
    status: 'completed',
    hrId: '167844',
    email: 'ada.lovelace@example.com',
    division: 'BPO Alpha',
    genesysUserId: '8f1d2c3b-4a5e-4f60-8123-9abcdef01234',
    createdAt: '2026-11-22T09:00:00.000Z',
    updatedAt: '2026-11-22T09:00:01.200Z',
    transitions: [{ status: 'accepted', at: '2026-11-22T09:00:00.000Z' }, { status: 'completed', at: '2026-11-22T09:00:01.200Z' }],
    steps: [{ name: 'createUser', status: 'done', at: '2026-11-22T09:00:00.800Z', durationMs: 310, detail: { userId: '8f1d2c3b-4a5e-4f60-8123-9abcdef01234', adopted: false } }],
    attempts: 1,
    hire: { hrId: '167844', email: 'ada.lovelace@example.com' },
  }],
})

export type ProvisioningRequestView = Static<typeof ProvisioningRequestSchema>

/** A completed request: what a waited 201 answers (the schema's own example). */
export const COMPLETED_EXAMPLE = ((ProvisioningRequestSchema as { examples?: ProvisioningRequestView[] }).examples ?? [])[0] as ProvisioningRequestView

/** A request just accepted: what a 202 answers. */
export const ACCEPTED_EXAMPLE: ProvisioningRequestView = {
  id: 'prq_01JD3W6Q4Z7Y8X9V0T1S2R3Q4P',
  kind: 'hire',
  status: 'accepted',
  hrId: '167844',
  email: 'ada.lovelace@example.com',
  division: 'BPO Alpha',
  createdAt: '2026-11-22T09:00:00.000Z',
  updatedAt: '2026-11-22T09:00:00.000Z',
  transitions: [{ status: 'accepted', at: '2026-11-22T09:00:00.000Z' }],
  steps: [],
  attempts: 0,
  hire: { hrId: '167844', email: 'ada.lovelace@example.com', division: 'BPO Alpha', roles: ['Agent'] },
}

/** A request refused by the checks against Genesys: what a waited 200 can answer. */
export const REJECTED_EXAMPLE: ProvisioningRequestView = {
  ...ACCEPTED_EXAMPLE,
  status: 'rejected',
  updatedAt: '2026-11-22T09:00:00.700Z',
  transitions: [{ status: 'accepted', at: '2026-11-22T09:00:00.000Z' }, { status: 'validating', at: '2026-11-22T09:00:00.300Z' }, { status: 'rejected', at: '2026-11-22T09:00:00.700Z' }],
  issues: [{ code: 'email.taken', path: '/email', message: 'ada.lovelace@example.com is already the userName of Genesys user 3c1f0d9e-2b4a-4c6d-8e7f-901a2b3c4d5e' }],
  attempts: 1,
}

/** JSON copy without `examples`: OpenAPI 3.0 allows them only at the top of a media type's schema. */
export function withoutExamples (schema: object): object {
  return JSON.parse(JSON.stringify(schema, (key, value: unknown) => (key === 'examples' ? undefined : value))) as object
}

/** A copy of a response schema with its own description and examples (OpenAPI shows them per status). */
export function documented<T extends TSchema> (schema: T, description: string, examples: Array<Static<T>>): T {
  return { ...schema, description, examples } as T
}


export const WorkerSchema = Type.Object({
  hrId: Type.String(),
  status: WorkerStatusSchema,
  genesysUserId: Type.String(),
  division: Type.Object({ id: Type.String(), name: Type.String() }, { additionalProperties: false }),
  roles: Type.Array(Type.Object({ roleId: Type.String(), divisionId: Type.String() }, { additionalProperties: false }), { description: 'Role grants this service made (others are not its to touch).' }),
  groups: Type.Array(Type.Object({ groupId: Type.String() }, { additionalProperties: false }), { description: 'Genesys groups this service added the worker to.' }),
  origin: Type.Unsafe<'created' | 'adopted'>({ type: 'string', enum: ['created', 'adopted'], description: 'Created by this service, or adopted with proof of ownership.' }),
  deactivatedAt: Type.Optional(Type.String({ format: 'date-time', description: 'When Genesys confirmed the deactivation (terminated workers).' })),
  deletedAt: Type.Optional(Type.String({ format: 'date-time', description: 'When the terminated worker\'s Genesys user was deleted for good; a rehire creates a new one.' })),
  desired: Type.Optional(NewHireSchema),
  lastRequestId: Type.String(),
  scheduled: Type.Optional(Type.Array(Type.Object({
    id: Type.String({ description: 'The provisioning request of the change (cancel it with POST /v1/provisioning-requests/{id}/cancel).' }),
    kind: RequestKindSchema,
    effectiveAt: Type.String({ format: 'date-time' }),
    hardDelete: Type.Optional(Type.Literal(true)),
  }, { additionalProperties: false }), { description: 'Changes waiting for their effective time, in the order they take effect.' })),
  updatedAt: Type.String({ format: 'date-time' }),
}, {
  additionalProperties: false,
  examples: [{
    hrId: '167844',
    status: 'active',
    genesysUserId: '8f1d2c3b-4a5e-4f60-8123-9abcdef01234',
    division: { id: 'a1b2c3d4-0000-4000-8000-000000000001', name: 'BPO Alpha' },
    roles: [{ roleId: 'r0000000-0000-4000-8000-000000000001', divisionId: 'a1b2c3d4-0000-4000-8000-000000000001' }],
    groups: [{ groupId: 'g0000000-0000-4000-8000-000000000001' }],
    origin: 'created',
    lastRequestId: 'prq_01JD3W6Q4Z7Y8X9V0T1S2R3Q4P',
    updatedAt: '2026-11-22T09:00:01.200Z',
  }],
})

export type WorkerView = Static<typeof WorkerSchema>
