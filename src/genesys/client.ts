import { errors } from '../errors.js'
import { GenesysError, isNotFound } from './errors.js'
import type { ApiCaller } from './http.js'
import {
  MEMBER_GROUP_TYPES, SCIM_CORE_USER, SCIM_ENTERPRISE_USER, SCIM_GENESYS_USER, SCIM_PATCH_OP, validators,
  type Division, type MemberGroup, type NamedEntity, type PatchOperation, type PlatformGroup, type Queue, type Role,
  type ScimGroup, type ScimUser, type ScimUserInput, type Subject, type Versioned,
} from './types.js'

const SCIM = '/api/v2/scim/v2'
const SCIM_JSON = 'application/scim+json'
/** Genesys advises SCIM pages of at most 25 and may answer larger ones with 429. */
const SCIM_PAGE = 25
const PAGE_SIZE = 100
/** Name lookups stop after this many pages: a prefix matching more is not a name. */
const MAX_PAGES = 20

/** SCIM filter string literal: quotes and backslashes escaped (RFC 7644 §3.4.2.2). */
export function scimString (value: string): string {
  return `"${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`
}

/** A version as Genesys writes it anywhere (`3`, `"3"`, `W/"3"`), bare. */
export function bareVersion (raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined
  const v = raw.trim().replace(/^W\//i, '').replace(/^"+|"+$/g, '')
  return v === '' ? undefined : v
}

/**
 * The version in an ETag, falling back to `meta.version`. Genesys' `meta.version`
 * may itself be quoted (`"3"`), so both are reduced to the bare version and
 * `If-Match` quotes it exactly once.
 */
export function versionOf (etag: string | undefined, meta: { version?: string } | undefined): string | undefined {
  return bareVersion(etag) ?? bareVersion(meta?.version)
}

const ifMatch = (version: string | undefined): Record<string, string> => (version === undefined ? {} : { 'if-match': `"${version}"` })

/** Pages of 25 read per division at most (10,000 users). */
const MAX_DIVISION_PAGES = 400

/**
 * Every user (active or not) of these divisions, read page by page with
 * `division eq "<name>"`; a user whose division is not one of them (a filter
 * matching loosely) is left out.
 */
export async function usersOfDivisions (users: Pick<GenesysClient['users'], 'page'>, names: readonly string[]): Promise<ScimUser[]> {
  const found = new Map<string, ScimUser>()
  for (const name of names) {
    for (let page = 0, start = 1; page < MAX_DIVISION_PAGES; page++) {
      const { users: got, total } = await users.page(`division eq ${scimString(name)}`, start)
      for (const u of got) if ((u[SCIM_ENTERPRISE_USER]?.division ?? '').toLowerCase() === name.toLowerCase()) found.set(u.id, u)
      start += got.length
      if (got.length === 0 || start > total) break
    }
  }
  return [...found.values()]
}

/**
 * The operations the provisioning flows use, each a named, typed call. Names
 * (`scim.users.create`, …) appear in logs, errors and metrics instead of URLs.
 */
export function createGenesysClient (call: ApiCaller) {
  async function scimUserQuery (operation: string, filter: string): Promise<ScimUser[]> {
    const res = await call(operation, {
      method: 'GET',
      path: `${SCIM}/users`,
      query: { filter, startIndex: 1, count: SCIM_PAGE },
      ok: [200],
      validator: validators.scimUserList,
    })
    return res.body.Resources ?? []
  }

  /** Walks a platform listing filtered by `name` and returns the exact match, if any. */
  async function byName<T extends { name: string }> (operation: string, path: string, name: string, validator: { Check (v: unknown): v is { entities?: T[], pageCount?: number } }): Promise<T | undefined> {
    const candidates: T[] = []
    for (let pageNumber = 1; pageNumber <= MAX_PAGES; pageNumber++) {
      const res = await call(operation, { method: 'GET', path, query: { name, pageSize: PAGE_SIZE, pageNumber }, ok: [200], validator })
      const entities = res.body.entities ?? []
      const exact = entities.find((e) => e.name === name)
      if (exact) return exact
      candidates.push(...entities.filter((e) => e.name.toLowerCase() === name.toLowerCase()))
      if (entities.length < PAGE_SIZE || pageNumber >= (res.body.pageCount ?? 1)) break
    }
    // Genesys matches names case-insensitively; accept that only when unambiguous.
    return candidates.length === 1 ? candidates[0] : undefined
  }

  const users = {
    /** Active or inactive (not deleted) user holding this userName. */
    async findByUserName (userName: string): Promise<ScimUser | undefined> {
      const found = await scimUserQuery('scim.users.findByUserName', `userName eq ${scimString(userName)}`)
      return found.find((u) => u.userName.toLowerCase() === userName.toLowerCase())
    },

    /** Users carrying this SCIM externalId (the HR id); normally zero or one. */
    async findByExternalId (externalId: string): Promise<ScimUser[]> {
      const found = await scimUserQuery('scim.users.findByExternalId', `externalId eq ${scimString(externalId)}`)
      return found.filter((u) => u.externalId === externalId)
    },

    /**
     * One page (25, 1-based `startIndex`) of the users a SCIM filter selects,
     * e.g. `division eq "BPO Alpha"`, and how many it selects in all.
     */
    async page (filter: string, startIndex: number): Promise<{ users: ScimUser[], total: number }> {
      const res = await call('scim.users.page', { method: 'GET', path: `${SCIM}/users`, query: { filter, startIndex, count: SCIM_PAGE }, ok: [200], validator: validators.scimUserList })
      return { users: res.body.Resources ?? [], total: res.body.totalResults }
    },

    async get (id: string): Promise<Versioned<ScimUser>> {
      const res = await call('scim.users.get', { method: 'GET', path: `${SCIM}/users/${encodeURIComponent(id)}`, ok: [200], validator: validators.scimUser })
      return { resource: res.body, version: versionOf(res.etag, res.body.meta) }
    },

    async create (input: ScimUserInput): Promise<Versioned<ScimUser>> {
      const res = await call('scim.users.create', {
        method: 'POST',
        path: `${SCIM}/users`,
        body: scimUserBody(input),
        contentType: SCIM_JSON,
        ok: [201, 200],
        validator: validators.scimUser,
      })
      return { resource: res.body, version: versionOf(res.etag, res.body.meta) }
    },

    async patch (id: string, operations: PatchOperation[], version?: string): Promise<Versioned<ScimUser>> {
      const res = await call('scim.users.patch', {
        method: 'PATCH',
        path: `${SCIM}/users/${encodeURIComponent(id)}`,
        headers: ifMatch(version),
        body: { schemas: [SCIM_PATCH_OP], Operations: operations },
        contentType: SCIM_JSON,
        ok: [200],
        validator: validators.scimUser,
      })
      return { resource: res.body, version: versionOf(res.etag, res.body.meta) }
    },

    async remove (id: string, version?: string): Promise<void> {
      await call('scim.users.delete', { method: 'DELETE', path: `${SCIM}/users/${encodeURIComponent(id)}`, headers: ifMatch(version), ok: [204, 200] })
    },
  }

  const groups = {
    /**
     * The group with this name. Genesys group names are unique regardless of
     * case, so `sales` finds `Sales`; an exact spelling wins when several differ
     * only in case.
     */
    async findByDisplayName (displayName: string): Promise<ScimGroup | undefined> {
      const res = await call('scim.groups.findByDisplayName', {
        method: 'GET',
        path: `${SCIM}/groups`,
        query: { filter: `displayName eq ${scimString(displayName)}`, startIndex: 1, count: SCIM_PAGE },
        ok: [200],
        validator: validators.scimGroupList,
      })
      const found = res.body.Resources ?? []
      const exact = found.find((g) => g.displayName === displayName)
      if (exact) return exact
      const folded = found.filter((g) => g.displayName.toLowerCase() === displayName.toLowerCase())
      return folded.length === 1 ? folded[0] : undefined
    },

    async get (id: string): Promise<Versioned<ScimGroup>> {
      const res = await call('scim.groups.get', { method: 'GET', path: `${SCIM}/groups/${encodeURIComponent(id)}`, ok: [200], validator: validators.scimGroup })
      return { resource: res.body, version: versionOf(res.etag, res.body.meta) }
    },

    /** Adds and removes members in one PATCH guarded by `If-Match` (a stale version fails with invalidVers). */
    async patchMembers (id: string, change: { add?: string[], remove?: string[] }, version?: string): Promise<Versioned<ScimGroup>> {
      const operations: PatchOperation[] = []
      if (change.add && change.add.length > 0) {
        operations.push({ op: 'add', path: 'members', value: change.add.map((value) => ({ value })) })
      }
      for (const userId of change.remove ?? []) {
        operations.push({ op: 'remove', path: `members[value eq ${scimString(userId)}]` })
      }
      const res = await call('scim.groups.patchMembers', {
        method: 'PATCH',
        path: `${SCIM}/groups/${encodeURIComponent(id)}`,
        headers: ifMatch(version),
        body: { schemas: [SCIM_PATCH_OP], Operations: operations },
        contentType: SCIM_JSON,
        ok: [200],
        validator: validators.scimGroup,
      })
      return { resource: res.body, version: versionOf(res.etag, res.body.meta) }
    },
  }

  const roles = {
    byName: (name: string): Promise<Role | undefined> =>
      byName('roles.byName', '/api/v2/authorization/roles', name, validators.rolePage),
    async byId (id: string): Promise<Role> {
      const res = await call('roles.get', { method: 'GET', path: `/api/v2/authorization/roles/${encodeURIComponent(id)}`, ok: [200], validator: validators.role })
      return res.body
    },
  }

  const grants = {
    /** Grants roles in divisions to a user; granting what is already granted is harmless. */
    async bulkAdd (subjectId: string, list: Array<{ roleId: string, divisionId: string }>): Promise<void> {
      await call('grants.bulkAdd', {
        method: 'POST',
        path: `/api/v2/authorization/subjects/${encodeURIComponent(subjectId)}/bulkadd`,
        body: { grants: list },
        ok: [204, 200],
      })
    },
    /**
     * Grants one role, in each of the divisions, to every user listed: one
     * call for many users (`POST /api/v2/authorization/roles/{roleId}?subjectType=PC_USER`).
     */
    async roleToUsers (roleId: string, userIds: string[], divisionIds: string[]): Promise<void> {
      await call('grants.roleToUsers', {
        method: 'POST',
        path: `/api/v2/authorization/roles/${encodeURIComponent(roleId)}`,
        query: { subjectType: 'PC_USER' },
        body: { subjectIds: userIds, divisionIds },
        ok: [204, 200],
      })
    },
    /**
     * Removes one grant (role in a division) from a user. One at a time: a bulk
     * remove fails whole when any role or division no longer exists. A grant
     * already gone (404) is removed.
     */
    async remove (subjectId: string, grant: { roleId: string, divisionId: string }): Promise<void> {
      try {
        await call('grants.remove', {
          method: 'DELETE',
          path: `/api/v2/authorization/subjects/${encodeURIComponent(subjectId)}/divisions/${encodeURIComponent(grant.divisionId)}/roles/${encodeURIComponent(grant.roleId)}`,
          ok: [204, 200],
        })
      } catch (err) {
        if (!isNotFound(err)) throw err
      }
    },
    async ofSubject (subjectId: string): Promise<Subject> {
      const res = await call('grants.ofSubject', { method: 'GET', path: `/api/v2/authorization/subjects/${encodeURIComponent(subjectId)}`, ok: [200], validator: validators.subject })
      return res.body
    },
  }

  /** The pages of a paged platform listing, in order (bounded by MAX_PAGES). */
  async function allPages<P extends { entities?: unknown[], pageCount?: number }> (operation: string, path: string, query: Record<string, string>, validator: { Check (v: unknown): v is P }): Promise<P[]> {
    const pages: P[] = []
    for (let pageNumber = 1; pageNumber <= MAX_PAGES; pageNumber++) {
      const res = await call(operation, { method: 'GET', path, query: { ...query, pageSize: PAGE_SIZE, pageNumber }, ok: [200], validator })
      pages.push(res.body)
      if ((res.body.entities ?? []).length < PAGE_SIZE || pageNumber >= (res.body.pageCount ?? 1)) break
    }
    return pages
  }

  const divisions = {
    byName: (name: string): Promise<Division | undefined> =>
      byName('divisions.byName', '/api/v2/authorization/divisions', name, validators.divisionPage),
    /** Every division of the org. */
    async list (): Promise<Division[]> {
      const pages = await allPages('divisions.list', '/api/v2/authorization/divisions', {}, validators.divisionPage)
      return pages.flatMap((p) => p.entities ?? [])
    },
    /**
     * The divisions where this OAuth client holds `permission` (its role grants
     * per division decide), and whether it holds it org-wide.
     */
    async permitted (permission: string): Promise<{ divisions: Division[], all: boolean }> {
      const pages = await allPages('divisions.permitted', '/api/v2/authorization/divisionspermitted/paged/me', { permission }, validators.permittedDivisionPage)
      return { divisions: pages.flatMap((p) => p.entities ?? []), all: pages[0]?.allDivsPermitted === true }
    },
    async home (): Promise<Division> {
      const res = await call('divisions.home', { method: 'GET', path: '/api/v2/authorization/divisions/home', ok: [200], validator: validators.division })
      return res.body
    },
  }

  const platformGroups = {
    /** An official, public group (Genesys groups are flat; any hierarchy stays in our mapping). */
    async create (input: { name: string, description?: string }): Promise<PlatformGroup> {
      const res = await call('groups.create', {
        method: 'POST',
        path: '/api/v2/groups',
        body: { name: input.name, description: input.description, type: 'official', rulesVisible: true, visibility: 'public' },
        ok: [200, 201],
        validator: validators.platformGroup,
      })
      return res.body
    },
    async get (id: string): Promise<PlatformGroup> {
      const res = await call('groups.get', { method: 'GET', path: `/api/v2/groups/${encodeURIComponent(id)}`, ok: [200], validator: validators.platformGroup })
      return res.body
    },
  }

  const queues = {
    byName: (name: string): Promise<Queue | undefined> =>
      byName('queues.byName', '/api/v2/routing/queues', name, validators.queuePage),
    async get (id: string): Promise<Queue> {
      const res = await call('queues.get', { method: 'GET', path: `/api/v2/routing/queues/${encodeURIComponent(id)}`, ok: [200], validator: validators.queue })
      return res.body
    },
    /**
     * Read-modify-write of a queue's member groups. PUT replaces the queue, so
     * the body carries every writable setting as read (an allow-list, never the
     * GET body), every member group `change` keeps with the type it was read
     * with, and no `division`. Queues have no version: callers serialise writers
     * (a per-queue lock); the result is read back, and a write that did not
     * stick (someone outside the lock wrote meanwhile) is an error, not a silent loss.
     */
    async updateMemberGroups (id: string, change: (current: MemberGroup[], queue: Queue) => MemberGroup[]): Promise<Queue> {
      const current = await queues.get(id)
      const before = typedMemberGroups(current)
      const after = change(before, current)
      if (sameMemberGroups(before, after)) return current
      await call('queues.put', {
        method: 'PUT',
        path: `/api/v2/routing/queues/${encodeURIComponent(id)}`,
        body: queuePutBody(current, after),
        ok: [200],
        validator: validators.queue,
      })
      const reread = await queues.get(id)
      if (!sameMemberGroups(typedMemberGroups(reread), after)) {
        throw errors.conflict(`queue "${current.name}" (${id}) changed while its member groups were being updated; the change did not stick, try again`, { retryable: true, retryAfter: 1 })
      }
      return reread
    },
  }

  const routing = {
    skillByName: (name: string): Promise<NamedEntity | undefined> =>
      byName('routing.skills.byName', '/api/v2/routing/skills', name, validators.namedPage),
    languageByName: (name: string): Promise<NamedEntity | undefined> =>
      byName('routing.languages.byName', '/api/v2/routing/languages', name, validators.namedPage),
  }

  return { users, groups, roles, grants, divisions, platformGroups, queues, routing }
}

export type GenesysClient = ReturnType<typeof createGenesysClient>

/** The SCIM create body: core attributes plus the enterprise and Genesys extensions that are set. */
export function scimUserBody (input: ScimUserInput): Record<string, unknown> {
  const schemas = [SCIM_CORE_USER]
  const body: Record<string, unknown> = {
    userName: input.userName,
    displayName: input.displayName,
    active: input.active ?? true,
  }
  if (input.title !== undefined) body.title = input.title
  if (input.externalId !== undefined) body.externalId = input.externalId
  if (input.emails) body.emails = input.emails
  if (input.phoneNumbers) body.phoneNumbers = input.phoneNumbers
  if (input.roles) body.roles = input.roles
  if (input.enterprise && Object.keys(input.enterprise).length > 0) {
    schemas.push(SCIM_ENTERPRISE_USER)
    body[SCIM_ENTERPRISE_USER] = input.enterprise
  }
  if (input.genesys && Object.keys(input.genesys).length > 0) {
    schemas.push(SCIM_GENESYS_USER)
    body[SCIM_GENESYS_USER] = input.genesys
  }
  return { schemas, ...body }
}

/**
 * The settings a queue PUT may carry (SDK `QueueRequest`, as the Terraform
 * provider builds it). Anything else a GET returns (`division`, counts, dates,
 * `selfUri`, fields added later) is left out: echoing it fails.
 */
export const QUEUE_WRITABLE_FIELDS = Object.freeze([
  'name', 'description', 'mediaSettings', 'routingRules', 'conditionalGroupRouting', 'bullseye',
  'acwSettings', 'skillEvaluationMethod', 'memberGroups', 'queueFlow', 'emailInQueueFlow',
  'messageInQueueFlow', 'whisperPrompt', 'onHoldPrompt', 'autoAnswerOnly', 'enableTranscription',
  'enableAudioMonitoring', 'enableManualAssignment', 'callingPartyName', 'callingPartyNumber',
  'defaultScripts', 'outboundMessagingAddresses', 'outboundEmailAddress', 'peerId',
  'suppressInQueueCallRecording', 'scoringMethod', 'lastAgentRoutingMode', 'agentOwnedRouting',
  'directRouting', 'cannedResponseLibraries',
] as const)

/** The PUT body: writable fields as read, `memberGroups` replaced, `conditionalGroupRouting.rules[0].queue` stripped. */
export function queuePutBody (queue: Queue, memberGroups: MemberGroup[]): Record<string, unknown> {
  const raw = queue as Record<string, unknown>
  const body: Record<string, unknown> = {}
  for (const field of QUEUE_WRITABLE_FIELDS) if (raw[field] !== undefined) body[field] = structuredClone(raw[field])
  const cgr = body.conditionalGroupRouting as { rules?: Array<Record<string, unknown>> } | undefined
  // Genesys fills in rule 1's queue (the queue itself) and refuses it sent back.
  if (cgr?.rules?.[0]) delete cgr.rules[0].queue
  body.memberGroups = memberGroups.map((g) => ({ id: g.id, type: g.type }))
  return body
}

/** The member groups as read, each with its type; an entry without a known type stops the write (it could not be sent back). */
export function typedMemberGroups (queue: Queue): MemberGroup[] {
  return (queue.memberGroups ?? []).map((g) => {
    const type = MEMBER_GROUP_TYPES.find((t) => t === g.type)
    if (type === undefined) {
      throw new GenesysError(`queue "${queue.name}" lists member group ${g.id} with type ${String(g.type)}; not rewriting a queue whose member groups cannot be sent back as read`, { operation: 'queues.get', failure: 'invalid-response' })
    }
    return { id: g.id, type }
  })
}

/** Where a queue still routes to a group: its conditional group routing rules and bullseye rings (1-based, as shown to admins). */
export function queueReferencesTo (queue: Queue, groupId: string): string[] {
  const refs: string[] = []
  queue.conditionalGroupRouting?.rules?.forEach((r, i) => {
    if (r.groups?.some((g) => g.id === groupId)) refs.push(`conditional group routing rule ${i + 1}`)
  })
  queue.bullseye?.rings?.forEach((r, i) => {
    if (r.memberGroups?.some((g) => g.id === groupId)) refs.push(`bullseye ring ${i + 1}`)
  })
  return refs
}

function sameMemberGroups (a: MemberGroup[], b: MemberGroup[]): boolean {
  const key = (list: MemberGroup[]) => [...new Set(list.map((g) => `${g.type}:${g.id}`))].sort().join(',')
  return key(a) === key(b)
}
