import { Type } from 'typebox'
import { DRIFT_KINDS, RECONCILE_MODES } from '../../drift/ports.js'

const Enum = <T extends string>(values: readonly T[], description?: string) => Type.Unsafe<T>({ type: 'string', enum: [...values], ...(description ? { description } : {}) })
export const DriftKindSchema = Enum(DRIFT_KINDS, 'What changed outside the service.')

export const ReconciliationSchema = Type.Object({
  id: Type.String(),
  scope: Type.String({ description: 'The client reconciled, or `*` for every client.' }),
  mode: Enum(RECONCILE_MODES),
  status: Enum(['running', 'completed', 'failed'] as const),
  startedAt: Type.String({ format: 'date-time' }),
  finishedAt: Type.Optional(Type.String({ format: 'date-time' })),
  workers: Type.Integer({ minimum: 0, description: 'Managed workers compared.' }),
  found: Type.Record(Type.String(), Type.Integer({ minimum: 0 }), { description: 'Drift found, by kind.' }),
  repairs: Type.Integer({ minimum: 0, description: 'Repair mode: changes queued to restore the desired state.' }),
  upstreamCalls: Type.Integer({ minimum: 0 }),
  error: Type.Optional(Type.Object({ code: Type.String(), message: Type.String() }, { additionalProperties: false })),
}, { additionalProperties: false })

export const DriftFindingSchema = Type.Object({
  clientId: Type.String(),
  hrId: Type.String(),
  genesysUserId: Type.String(),
  kind: DriftKindSchema,
  detail: Type.Record(Type.String(), Type.String()),
  detectedAt: Type.String({ format: 'date-time' }),
  runId: Type.String(),
  repairRequestId: Type.Optional(Type.String()),
}, { additionalProperties: false })

export const DriftListSchema = Type.Object({ items: Type.Array(DriftFindingSchema) }, { additionalProperties: false })
