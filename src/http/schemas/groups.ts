import { Type, type Static } from 'typebox'
import { HR_ID_PATTERN } from '../../provisioning/model.js'

/** Schemas of the group API: HR group mappings and membership syncs. */

const Name = (max: number, description?: string) => Type.String({ minLength: 1, maxLength: max, ...(description ? { description } : {}) })
const HrId = Type.String({ minLength: 1, maxLength: 64, pattern: HR_ID_PATTERN })
const MAX_MEMBERS = 5000

export const HrGroupPathParams = Type.Object({
  hrGroupPath: Type.String({ minLength: 1, maxLength: 500, description: 'The HR group path URL-encoded as one segment, e.g. `Operations%2FCustomer%20Care%2FTier%201`.' }),
})

export const MappingInputSchema = Type.Object({
  genesysGroup: Name(200, 'Name of the Genesys group the HR group feeds.'),
  queues: Type.Array(Name(200), { maxItems: 20, uniqueItems: true, default: [], description: 'Routing queues (names) the group is made a member of.' }),
  create: Type.Boolean({ default: false, description: 'Create the Genesys group when it does not exist.' }),
  division: Type.Optional(Name(200, 'The division the mapping belongs to; defaults to your client\'s only division (or the home division for all-division clients).')),
  shareGroup: Type.Optional(Type.Boolean({ description: 'Admin scope only: map a Genesys group that another division\'s mapping owns. Its hires may then join the group; the group\'s queues stay the owner\'s.' })),
}, { additionalProperties: false, examples: [{ genesysGroup: 'Support Tier 1', queues: ['Support'], create: true, division: 'BPO Alpha' }] })

export type MappingInputBody = Static<typeof MappingInputSchema>

export const MappingSchema = Type.Object({
  hrGroupPath: Type.String(),
  division: Type.String(),
  genesysGroup: Type.Object({ id: Type.String(), name: Type.String() }, { additionalProperties: false }),
  queues: Type.Array(Type.Object({ id: Type.String(), name: Type.String() }, { additionalProperties: false })),
  shared: Type.Optional(Type.Boolean({ description: 'The group is owned by another division\'s mapping and was shared with this one by an admin.' })),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
  updatedBy: Type.String(),
}, {
  additionalProperties: false,
  examples: [{
    hrGroupPath: 'Operations/Customer Care/Tier 1',
    division: 'BPO Alpha',
    genesysGroup: { id: '3a000000-0000-4000-8000-000000000002', name: 'Support Tier 1' },
    queues: [{ id: '4b000000-0000-4000-8000-000000000002', name: 'Support' }],
    createdAt: '2026-11-22T09:00:00.000Z',
    updatedAt: '2026-11-22T09:00:00.000Z',
    updatedBy: 'workday',
  }],
})

export const ReplaceMembersSchema = Type.Object({
  members: Type.Array(HrId, { maxItems: MAX_MEMBERS, uniqueItems: true, description: 'Every HR id that should be in the group; anyone else is removed.' }),
}, { additionalProperties: false, examples: [{ members: ['167844', '167845', '170001'] }] })

export const PatchMembersSchema = Type.Object({
  add: Type.Array(HrId, { maxItems: MAX_MEMBERS, uniqueItems: true, default: [] }),
  remove: Type.Array(HrId, { maxItems: MAX_MEMBERS, uniqueItems: true, default: [] }),
}, { additionalProperties: false, examples: [{ add: ['170002'], remove: ['167845'] }] })

export const ConfirmQuery = Type.Object({
  confirm: Type.Boolean({ default: false, description: 'Allow removing more members than the removal brake (`GROUP_SYNC_MAX_REMOVALS_PERCENT`).' }),
}, { additionalProperties: false })

const SYNC_STATUSES = ['accepted', 'running', 'completed', 'needs-confirmation', 'failed'] as const

const ResultSchema = Type.Object({
  added: Type.Array(Type.String()),
  removed: Type.Array(Type.String()),
  keptUnowned: Type.Optional(Type.Integer({ description: 'Members left in place because this client does not manage them (a count only).' })),
  removedUnmapped: Type.Array(Type.String(), { description: 'Kept for compatibility and always empty: a sync removes only members this client manages, and reports them by HR id in `removed`.' }),
  unknownHrIds: Type.Array(Type.String(), { description: 'HR ids with no Genesys user: reported, not fatal.' }),
  membersBefore: Type.Integer(),
  membersAfter: Type.Integer(),
  patches: Type.Integer(),
  conflicts: Type.Integer({ description: 'Version conflicts met (each answered by reading again).' }),
}, { additionalProperties: false })

export const GroupSyncSchema = Type.Object({
  id: Type.String(),
  hrGroupPath: Type.String(),
  division: Type.String(),
  genesysGroupId: Type.String(),
  mode: Type.Union([Type.Literal('replace'), Type.Literal('delta')]),
  confirmed: Type.Boolean(),
  status: Type.Unsafe<typeof SYNC_STATUSES[number]>({ type: 'string', enum: [...SYNC_STATUSES], description: '`needs-confirmation`: the removal brake held and nothing changed; send again with `?confirm=true`.' }),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
  attempts: Type.Integer(),
  result: Type.Optional(ResultSchema),
  error: Type.Optional(Type.Object({ code: Type.String(), message: Type.String(), correlationId: Type.Optional(Type.String()) }, { additionalProperties: false })),
}, {
  additionalProperties: false,
  examples: [{
    id: 'gsy_01JD3W6Q4Z7Y8X9V0T1S2R3Q4P',
    hrGroupPath: 'Operations/Customer Care/Tier 1',
    division: 'BPO Alpha',
    genesysGroupId: '3a000000-0000-4000-8000-000000000002',
    mode: 'replace',
    confirmed: false,
    status: 'completed',
    createdAt: '2026-11-22T09:00:00.000Z',
    updatedAt: '2026-11-22T09:00:01.000Z',
    attempts: 1,
    result: { added: ['170001'], removed: ['160002'], removedUnmapped: [], unknownHrIds: [], membersBefore: 12, membersAfter: 12, patches: 1, conflicts: 0 },
  }],
})
