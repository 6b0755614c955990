import { Type, type Static } from 'typebox'
import type { Issue } from '../errors.js'

/** Shared by reference: the same `$id` inlined twice breaks response serialisation. */
export const IssueRef = Type.Unsafe<Issue>(Type.Ref('Issue'))

/**
 * The provisioning domain's vocabulary: a new hire, a request's statuses and a
 * dry run's result, as schemas (the HTTP layer and the checks share them). Lengths and counts are
 * bounded everywhere: a new hire is small, and unbounded input is a denial of
 * service waiting to happen. Syntax that deserves a precise policy message
 * (email form, E.164, calendar dates, group depth) is checked by the pipeline
 * and answered with 422 and an issue code rather than a schema error.
 */

const Name = (max: number, description?: string) => Type.String({ minLength: 1, maxLength: max, ...(description ? { description } : {}) })
/**
 * HR ids end up inside quoted SCIM filter values (`externalId eq "…"`), and how
 * Genesys treats `\"` or `\\` there is undocumented: only characters that need no
 * escaping are accepted.
 */
export const HR_ID_PATTERN = '^[A-Za-z0-9._~@+:/-]+$'
const HrIdSchema = Type.String({ minLength: 1, maxLength: 64, pattern: HR_ID_PATTERN, description: 'The employee id in the HR system; becomes the Genesys SCIM `externalId`. Letters, digits and `. _ ~ @ + : / -` only (they need no escaping in a SCIM filter).' })

export const PHONE_TYPES = ['work', 'work2', 'work3', 'work4', 'home', 'mobile', 'other'] as const

const ProficiencySchema = Type.Object({
  name: Name(200),
  proficiency: Type.Integer({ minimum: 0, maximum: 5 }),
}, { additionalProperties: false })

export const NewHireSchema = Type.Object({
  hrId: HrIdSchema,
  email: Type.String({ minLength: 3, maxLength: 254, description: 'Work email; becomes the Genesys `userName`. Trimmed, domain lower-cased.' }),
  givenName: Type.Optional(Name(100)),
  familyName: Type.Optional(Name(100)),
  displayName: Type.Optional(Name(200, 'Defaults to "givenName familyName".')),
  title: Type.Optional(Name(200)),
  department: Type.Optional(Name(200)),
  employeeNumber: Type.Optional(Name(64)),
  managerHrId: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: '^[\\x21-\\x7e]+$', description: 'The HR id of the new hire\'s manager (as in `hrId`).' })),
  phoneNumbers: Type.Optional(Type.Array(Type.Object({
    type: Type.Unsafe<typeof PHONE_TYPES[number]>({ type: 'string', enum: [...PHONE_TYPES] }),
    value: Type.String({ minLength: 1, maxLength: 32, description: 'E.164, e.g. +353871234567.' }),
  }, { additionalProperties: false }), { maxItems: 7 })),
  division: Type.Optional(Name(200, 'Genesys division name; defaults to the home division.')),
  roles: Type.Optional(Type.Array(Name(200), { maxItems: 50, description: 'Genesys role names, granted in the division.' })),
  groups: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 500 }), { maxItems: 100, description: 'HR group paths such as `Operations/Customer Care/Tier 1`.' })),
  skills: Type.Optional(Type.Array(ProficiencySchema, { maxItems: 50 })),
  languages: Type.Optional(Type.Array(ProficiencySchema, { maxItems: 50 })),
  startDate: Type.Optional(Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'First working day (YYYY-MM-DD).' })),
}, {
  additionalProperties: false,
  // Not the README's hire (167844): trying this out in Swagger UI provisions a hire of its own.
  examples: [{
    hrId: '900001',
    email: 'grace.hopper@example.com',
    givenName: 'Grace',
    familyName: 'Hopper',
    title: 'Customer Care Agent',
    department: 'Operations',
    employeeNumber: 'E-900001',
    phoneNumbers: [{ type: 'work', value: '+353871234567' }],
    division: 'BPO Alpha',
    roles: ['Agent'],
    groups: ['Operations/Customer Care/Support'],
    skills: [{ name: 'Billing', proficiency: 4 }],
    languages: [{ name: 'English', proficiency: 5 }],
    startDate: '2026-12-01',
  }],
})

export type NewHireBody = Static<typeof NewHireSchema>

/**
 * What a provisioning request does to its worker: `hire` creates (or adopts) the
 * user, `terminate` deactivates it and removes the memberships this service
 * made, `rehire` reactivates an owned user and brings it to the desired state.
 * `update` and `move` are the kinds of attribute and division changes.
 */
export const REQUEST_KINDS = ['hire', 'update', 'move', 'terminate', 'rehire'] as const
export type RequestKind = typeof REQUEST_KINDS[number]
export const RequestKindSchema = Type.Unsafe<RequestKind>({ type: 'string', enum: [...REQUEST_KINDS], description: 'What the request does to the worker.' })

export const WORKER_STATUSES = ['active', 'terminated'] as const
export type WorkerStatus = typeof WORKER_STATUSES[number]
export const WorkerStatusSchema = Type.Unsafe<WorkerStatus>({ type: 'string', enum: [...WORKER_STATUSES] })

const { hrId: _hrId, ...desiredFields } = NewHireSchema.properties

/** A date-time or a bare date; the exact RFC 3339 form is checked by the lifecycle (422 `effectiveAt.invalid`). */
export const EFFECTIVE_AT_PATTERN = '^\\d{4}-\\d{2}-\\d{2}([Tt].*)?$'

/**
 * The desired state of one worker (`PUT /v1/workers/{hrId}`): the new-hire
 * fields (the HR id is the path's) plus `status` and an optional `effectiveAt`.
 */
export const WorkerDesiredSchema = Type.Object({
  ...desiredFields,
  status: Type.Optional(Type.Unsafe<WorkerStatus>({ type: 'string', enum: [...WORKER_STATUSES], default: 'active', description: '`terminated` deactivates the worker; `active` (default) hires or rehires.' })),
  effectiveAt: Type.Optional(Type.String({
    maxLength: 40,
    pattern: EFFECTIVE_AT_PATTERN,
    description: 'When the change takes effect: an RFC 3339 date-time, or a date (`2027-01-04`), which means its midnight in `HR_TIME_ZONE` (default UTC). A time in the past (or now) runs at once; a future one schedules the change (status `scheduled`), started within about a second of its time.',
  })),
  supersede: Type.Optional(Type.Boolean({ description: 'Cancel this worker\'s scheduled changes effective at the same time as this one or later (all of them, when this one runs now). Without it they are kept and run in effective order.' })),
}, {
  additionalProperties: false,
  examples: [{ email: 'grace.hopper@example.com', givenName: 'Grace', familyName: 'Hopper', division: 'BPO Alpha', roles: ['Agent'], groups: ['Operations/Customer Care/Support'], status: 'active' }],
})
export type WorkerDesired = Static<typeof WorkerDesiredSchema>

/** A partial change (`PATCH /v1/workers/{hrId}`, JSON merge patch): any subset of the desired state. */
export const WorkerPatchSchema = Type.Partial(WorkerDesiredSchema, {
  additionalProperties: false,
  examples: [{ status: 'terminated' }, { title: 'Team Lead' }],
})
export type WorkerPatch = Static<typeof WorkerPatchSchema>

/**
 * Every status a provisioning request can have, in the order it can reach them.
 * `scheduled`: a change waiting for its `effectiveAt`;
 * `held`: a termination or move past the mass-change brake, waiting for an admin's confirm;
 * `cancelled`: one its client withdrew before it started.
 */
export const REQUEST_STATUSES = ['scheduled', 'held', 'accepted', 'validating', 'provisioning', 'completed', 'rejected', 'failed', 'cancelled'] as const
export type RequestStatus = typeof REQUEST_STATUSES[number]
/** Terminal requests are kept this long for status queries and audits (both twins). */
export const REQUEST_RETENTION_SECONDS = 30 * 24 * 3600

export const TERMINAL_STATUSES: ReadonlySet<RequestStatus> = new Set(['completed', 'rejected', 'failed', 'cancelled'])
export const RequestStatusSchema = Type.Unsafe<RequestStatus>({ type: 'string', enum: [...REQUEST_STATUSES] })

export const DryRunResultSchema = Type.Object({
  dryRun: Type.Literal(true),
  valid: Type.Boolean({ description: 'True when a real run would pass validation.' }),
  issues: Type.Array(IssueRef),
  plan: Type.Object({
    scimUser: Type.Record(Type.String(), Type.Unknown(), { description: 'The SCIM create body that would be sent (never a password).' }),
    grants: Type.Array(Type.Object({ roleId: Type.String(), roleName: Type.String(), divisionId: Type.String(), divisionName: Type.String() }, { additionalProperties: false })),
    groups: Type.Array(Type.Object({ hrPath: Type.String(), groupId: Type.String(), groupName: Type.String() }, { additionalProperties: false })),
  }, { additionalProperties: false }),
}, {
  additionalProperties: false,
  examples: [{
    dryRun: true,
    valid: false,
    issues: [{ code: 'role.deniedPermission', path: '/roles/1', message: 'role "Master Admin" grants denied permission authorization:role:add' }],
    plan: { scimUser: { userName: 'ada.lovelace@example.com', displayName: 'Ada Lovelace', externalId: '167844' }, grants: [], groups: [] },
  }],
})

export type DryRunResult = Static<typeof DryRunResultSchema>
