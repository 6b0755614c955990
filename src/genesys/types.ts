import { Type, type Static, type TSchema } from 'typebox'
import { Compile } from 'typebox/compile'

/**
 * The parts of Genesys Cloud responses this service relies on. Objects accept
 * extra properties: Genesys adds fields over time and that must not break us;
 * what we read must be there with the right type.
 */

export const SCIM_CORE_USER = 'urn:ietf:params:scim:schemas:core:2.0:User'
export const SCIM_ENTERPRISE_USER = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'
export const SCIM_GENESYS_USER = 'urn:ietf:params:scim:schemas:extension:genesys:purecloud:2.0:User'
export const SCIM_PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'
export const SCIM_EXTERNAL_ID_AUTHORITY = 'x-pc:scimv2:v1'

const Open = <T extends Parameters<typeof Type.Object>[0]>(props: T) => Type.Object(props, { additionalProperties: true })

const MetaSchema = Open({
  version: Type.Optional(Type.String()),
  lastModified: Type.Optional(Type.String()),
  location: Type.Optional(Type.String()),
})

const ProficiencySchema = Open({ name: Type.String(), proficiency: Type.Optional(Type.Number()) })

export const ScimUserSchema = Open({
  id: Type.String(),
  userName: Type.String(),
  displayName: Type.Optional(Type.String()),
  active: Type.Optional(Type.Boolean()),
  title: Type.Optional(Type.String()),
  externalId: Type.Optional(Type.String()),
  roles: Type.Optional(Type.Array(Open({ value: Type.String() }))),
  groups: Type.Optional(Type.Array(Open({ value: Type.String(), display: Type.Optional(Type.String()) }))),
  [SCIM_ENTERPRISE_USER]: Type.Optional(Open({
    division: Type.Optional(Type.String()),
    department: Type.Optional(Type.String()),
    employeeNumber: Type.Optional(Type.String()),
    manager: Type.Optional(Open({ value: Type.String() })),
  })),
  [SCIM_GENESYS_USER]: Type.Optional(Open({
    routingSkills: Type.Optional(Type.Array(ProficiencySchema)),
    routingLanguages: Type.Optional(Type.Array(ProficiencySchema)),
    externalIds: Type.Optional(Type.Array(Open({ authority: Type.String(), value: Type.String() }))),
  })),
  meta: Type.Optional(MetaSchema),
})
export type ScimUser = Static<typeof ScimUserSchema>

export const ScimGroupSchema = Open({
  id: Type.String(),
  displayName: Type.String(),
  members: Type.Optional(Type.Array(Open({ value: Type.String() }))),
  meta: Type.Optional(MetaSchema),
})
export type ScimGroup = Static<typeof ScimGroupSchema>

const scimList = <T extends TSchema>(item: T) => Open({
  totalResults: Type.Number(),
  startIndex: Type.Optional(Type.Number()),
  itemsPerPage: Type.Optional(Type.Number()),
  // An empty result may omit Resources altogether.
  Resources: Type.Optional(Type.Array(item)),
})
export const ScimUserListSchema = scimList(ScimUserSchema)
export const ScimGroupListSchema = scimList(ScimGroupSchema)

const page = <T extends TSchema>(item: T) => Open({
  entities: Type.Optional(Type.Array(item)),
  pageSize: Type.Optional(Type.Number()),
  pageNumber: Type.Optional(Type.Number()),
  total: Type.Optional(Type.Number()),
  pageCount: Type.Optional(Type.Number()),
})

export const PermissionPolicySchema = Open({
  domain: Type.String(),
  entityName: Type.String(),
  actionSet: Type.Array(Type.String()),
})
export const RoleSchema = Open({
  id: Type.String(),
  name: Type.String(),
  permissions: Type.Optional(Type.Array(Type.String())),
  permissionPolicies: Type.Optional(Type.Array(PermissionPolicySchema)),
})
export type Role = Static<typeof RoleSchema>
export const RolePageSchema = page(RoleSchema)

export const DivisionSchema = Open({ id: Type.String(), name: Type.String(), homeDivision: Type.Optional(Type.Boolean()) })
export type Division = Static<typeof DivisionSchema>
export const DivisionPageSchema = page(DivisionSchema)
/** `GET /authorization/divisionspermitted/paged/me`: the divisions where the caller holds a permission. */
export const PermittedDivisionPageSchema = Open({
  ...page(DivisionSchema).properties,
  allDivsPermitted: Type.Optional(Type.Boolean()),
})

export const NamedEntitySchema = Open({ id: Type.String(), name: Type.String() })
export type NamedEntity = Static<typeof NamedEntitySchema>
export const NamedEntityPageSchema = page(NamedEntitySchema)

export const PlatformGroupSchema = Open({ id: Type.String(), name: Type.String(), version: Type.Optional(Type.Number()) })
export type PlatformGroup = Static<typeof PlatformGroupSchema>

/** Queue member group kinds [V, Terraform `routing_queue`, SDK `MemberGroup`]. */
export const MEMBER_GROUP_TYPES = ['GROUP', 'TEAM', 'SKILLGROUP'] as const
export type MemberGroupType = typeof MEMBER_GROUP_TYPES[number]
/** What a queue PUT sends for one member group. */
export interface MemberGroup { id: string, type: MemberGroupType }

const MemberGroupSchema = Open({ id: Type.String(), type: Type.Optional(Type.String()), name: Type.Optional(Type.String()) })

export const QueueSchema = Open({
  id: Type.String(),
  name: Type.String(),
  memberGroups: Type.Optional(Type.Array(MemberGroupSchema)),
  division: Type.Optional(Open({ id: Type.String(), name: Type.Optional(Type.String()) })),
  /** SDK `ConditionalGroupRouting`: rule 1's `queue` is the queue itself, filled in by Genesys. */
  conditionalGroupRouting: Type.Optional(Open({
    rules: Type.Optional(Type.Array(Open({
      queue: Type.Optional(Open({ id: Type.String() })),
      groups: Type.Optional(Type.Array(MemberGroupSchema)),
    }))),
  })),
  /** SDK `Bullseye`: rings that widen the agent pool, each with its own member groups. */
  bullseye: Type.Optional(Open({
    rings: Type.Optional(Type.Array(Open({ memberGroups: Type.Optional(Type.Array(MemberGroupSchema)) }))),
  })),
})
export type Queue = Static<typeof QueueSchema>
export const QueuePageSchema = page(QueueSchema)

export const SubjectSchema = Open({
  id: Type.String(),
  // A user's answer includes grants inherited from its groups: `subjectId` is the group's id on those.
  grants: Type.Optional(Type.Array(Open({
    subjectId: Type.Optional(Type.String()),
    role: Open({ id: Type.String(), name: Type.Optional(Type.String()) }),
    division: Open({ id: Type.String(), name: Type.Optional(Type.String()) }),
  }))),
})
export type Subject = Static<typeof SubjectSchema>

export const TokenResponseSchema = Open({
  access_token: Type.String({ minLength: 1 }),
  token_type: Type.Optional(Type.String()),
  expires_in: Type.Number({ exclusiveMinimum: 0 }),
})

/** Compiled once at startup; responses are checked on the hot path. */
export const validators = {
  scimUser: Compile(ScimUserSchema),
  scimUserList: Compile(ScimUserListSchema),
  scimGroup: Compile(ScimGroupSchema),
  scimGroupList: Compile(ScimGroupListSchema),
  role: Compile(RoleSchema),
  rolePage: Compile(RolePageSchema),
  division: Compile(DivisionSchema),
  divisionPage: Compile(DivisionPageSchema),
  permittedDivisionPage: Compile(PermittedDivisionPageSchema),
  namedPage: Compile(NamedEntityPageSchema),
  platformGroup: Compile(PlatformGroupSchema),
  queue: Compile(QueueSchema),
  queuePage: Compile(QueuePageSchema),
  subject: Compile(SubjectSchema),
  token: Compile(TokenResponseSchema),
}

/** What the service sends to create a SCIM user (the password is never sent: Genesys makes one). */
export interface ScimUserInput {
  userName: string
  displayName: string
  active?: boolean
  title?: string
  externalId?: string
  emails?: Array<{ value: string, type: 'work' | 'other', primary?: boolean }>
  phoneNumbers?: Array<{ value: string, type: string, primary?: boolean }>
  roles?: Array<{ value: string }>
  enterprise?: {
    division?: string
    department?: string
    employeeNumber?: string
    manager?: { value: string }
    dateHire?: string
  }
  genesys?: {
    routingSkills?: Array<{ name: string, proficiency: number }>
    routingLanguages?: Array<{ name: string, proficiency: number }>
  }
}

export interface PatchOperation {
  op: 'add' | 'replace' | 'remove'
  path?: string
  value?: unknown
}

/** A resource with the version its ETag carried, for a later `If-Match`. */
export interface Versioned<T> {
  resource: T
  version: string | undefined
}

/** One `domain:entity:action` permission a role grants (`*` is a wildcard). */
export interface Permission {
  domain: string
  entity: string
  action: string
}
