import { Type, type Static } from 'typebox'
import { IMPORT_MODES, IMPORT_OUTCOMES, IMPORT_STATUSES, MATCHED_BY, MAX_IMPORT_RECORDS } from '../../imports/ports.js'
import { IssueRef, RequestKindSchema } from '../../provisioning/model.js'

const Enum = <T extends string>(values: readonly T[], description?: string) => Type.Unsafe<T>({ type: 'string', enum: [...values], ...(description ? { description } : {}) })

export const ImportBodySchema = Type.Object({
  mode: Enum(IMPORT_MODES, '`plan` matches and compares, writing nothing; `apply` also registers the matches and sends every matched or missing record through the lifecycle.'),
  workers: Type.Array(Type.Unknown({ description: 'The roster: each record a worker\'s desired state with its `hrId` (as in `POST /v1/worker-batches`), validated on its own.' }), { minItems: 1, maxItems: MAX_IMPORT_RECORDS }),
}, {
  additionalProperties: false,
  examples: [{ mode: 'plan', workers: [{ hrId: '167844', email: 'grace.hopper@example.com', givenName: 'Grace', familyName: 'Hopper', division: 'BPO Alpha', roles: ['Agent'], groups: ['Operations/Customer Care/Support'] }] }],
})

const Count = Type.Integer({ minimum: 0 })

export const ImportRowSchema = Type.Object({
  index: Type.Integer({ minimum: 0 }),
  hrId: Type.Optional(Type.String()),
  email: Type.Optional(Type.String()),
  outcome: Enum(IMPORT_OUTCOMES, '`matched` (an existing user is the worker), `create` (no user), `conflict` (a user blocks the record; left alone), `invalid` (the record is refused).'),
  matchedBy: Type.Optional(Enum(MATCHED_BY, '`registry` (managed already), `externalId` (this client\'s form), `bareHrId`, `email`.')),
  genesysUserId: Type.Optional(Type.String()),
  differences: Type.Optional(Type.Object({
    division: Type.Optional(Type.Object({ genesys: Type.String(), roster: Type.String() }, { additionalProperties: false })),
    active: Type.Optional(Type.Object({ genesys: Type.Boolean(), roster: Type.Boolean() }, { additionalProperties: false })),
    email: Type.Optional(Type.Object({ genesys: Type.String(), roster: Type.String() }, { additionalProperties: false })),
    rolesToAdd: Type.Optional(Type.Array(Type.String())),
    groupsToJoin: Type.Optional(Type.Array(Type.String())),
  }, { additionalProperties: false, description: 'How the Genesys user differs from the roster (only what differs).' })),
  conflict: Type.Optional(Type.Object({ code: Type.String(), message: Type.String() }, { additionalProperties: false })),
  issues: Type.Optional(Type.Array(IssueRef)),
  registered: Type.Optional(Type.Boolean({ description: 'Apply: the user was registered as this client\'s worker (no Genesys write for that).' })),
  change: Type.Optional(Type.Union([RequestKindSchema, Type.Literal('none')], { description: 'Apply: what the lifecycle made of the record.' })),
  requestId: Type.Optional(Type.String()),
  applyIssues: Type.Optional(Type.Array(IssueRef, { description: 'Apply: why the lifecycle refused the record.' })),
}, { additionalProperties: false })

export const ImportSchema = Type.Object({
  id: Type.String(),
  mode: Enum(IMPORT_MODES),
  status: Enum(IMPORT_STATUSES, '`running` until the roster is matched (and, for apply, sent); then `completed`, or `failed` with `error`.'),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
  completedAt: Type.Optional(Type.String({ format: 'date-time' })),
  error: Type.Optional(Type.Object({ code: Type.String(), message: Type.String() }, { additionalProperties: false })),
  total: Count,
  counts: Type.Object({ matched: Count, create: Count, conflict: Count, invalid: Count, unmanaged: Count }, { additionalProperties: false }),
  upstreamCalls: Type.Integer({ minimum: 0, description: 'Genesys calls the matching made (user pages of the divisions, email lookups, directory reads).' }),
  rows: Type.Array(ImportRowSchema, { description: 'One per record, in record order.' }),
  unmanaged: Type.Array(Type.Object({
    genesysUserId: Type.String(),
    userName: Type.String(),
    active: Type.Boolean(),
    division: Type.Optional(Type.String()),
    externalId: Type.Optional(Type.String()),
  }, { additionalProperties: false }), { description: 'Users in the client\'s divisions that no record matched and nobody manages.' }),
}, { additionalProperties: false })

export type ImportView = Static<typeof ImportSchema>
