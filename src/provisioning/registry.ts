import type { Issue } from '../errors.js'
import type { NewHireBody } from './model.js'

/**
 * The worker registry: which Genesys user each of a client's HR ids is, and what
 * this service did to it. It is the proof of ownership every flow asks first:
 * a user, grant or membership the registry does not record for a client is
 * never adopted, changed or removed on that client's behalf.
 */

export interface WorkerEntry {
  clientId: string
  hrId: string
  /** The Genesys SCIM `externalId` (the client's namespace + HR id). */
  externalId: string
  genesysUserId: string
  divisionId: string
  divisionName: string
  /** Grants this service made (role and division ids); others are not ours to touch. */
  grants: Array<{ roleId: string, divisionId: string }>
  /** Genesys groups this service added the worker to. */
  groups: string[]
  active: boolean
  /** When Genesys confirmed the deactivation of a terminated worker. */
  deactivatedAt?: string
  /** When the terminated worker's Genesys user was deleted for good (a rehire creates a new one). */
  deletedAt?: string
  /** Created by this service, or adopted with proof of ownership (possibly reactivated). */
  origin: 'created' | 'adopted'
  /**
   * The worker's desired state as last accepted (the new-hire fields): what a
   * `PATCH /v1/workers/{hrId}` merges into, and what a rehire restores.
   */
  desired?: NewHireBody
  lastRequestId: string
  updatedAt: string
}

export interface WorkerListQuery {
  status?: 'active' | 'terminated'
  /** Division name (case-insensitive) or id. */
  division?: string
  limit: number
  /** `nextCursor` of the previous page. */
  cursor?: string
}

/** A client's workers in HR id order; a page may hold fewer than `limit` items when filters skip entries. */
export interface WorkerPage { items: WorkerEntry[], nextCursor?: string }

/** True when the entry passes the list filters. */
export function workerMatches (e: WorkerEntry, q: Pick<WorkerListQuery, 'status' | 'division'>): boolean {
  if (q.status !== undefined && (q.status === 'active') !== e.active) return false
  if (q.division !== undefined && e.divisionId !== q.division && e.divisionName.toLowerCase() !== q.division.toLowerCase()) return false
  return true
}

/** Worker list cursors: base64url of the last HR id returned. */
export const workerCursor = {
  encode: (hrId: string) => Buffer.from(hrId, 'utf8').toString('base64url'),
  decode: (cursor: string) => {
    const hrId = Buffer.from(cursor, 'base64url').toString('utf8')
    return hrId === '' ? undefined : hrId
  },
}

export interface WorkerOwner { clientId: string, hrId: string }

export interface WorkerRegistry {
  get (clientId: string, hrId: string): Promise<WorkerEntry | undefined>
  /** The client and HR id that own a Genesys user, if any client does. */
  ownerOf (genesysUserId: string): Promise<WorkerOwner | undefined>
  /**
   * Records an entry. Refused (throws `OwnedElsewhere`) when the Genesys user is
   * already owned by another (client, HR id): ownership never moves silently.
   * The worker writes entries through `RequestStore.save`, in the same atomic
   * step as the request's ledger.
   */
  put (entry: WorkerEntry): Promise<void>
  /** One client's workers, by HR id. */
  list (clientId: string, query: WorkerListQuery): Promise<WorkerPage>
  /** How many workers the client has entries for (active or terminated). */
  count (clientId: string): Promise<number>
}

export class OwnedElsewhere extends Error {
  constructor (readonly genesysUserId: string) {
    super('the Genesys user is already managed for another HR id or client')
    this.name = 'OwnedElsewhere'
  }
}

/** A Genesys user found while looking for a hire's account. */
export interface Candidate {
  id: string
  userName: string
  externalId?: string
  active: boolean
  /** Resolved from the user's division name; undefined when the division is unknown. */
  divisionId?: string
}

export interface OwnershipContext {
  clientId: string
  hrId: string
  externalId: string
  email: string
  /** Division ids the client may provision into, or '*' for every division. */
  divisionIds: ReadonlySet<string> | '*'
  /** Who the registry says owns the candidate. */
  owner?: WorkerOwner
}

export type Verdict =
  | { adopt: true, reactivate: boolean }
  | { adopt: false, issue: Issue }

/**
 * May this client take over the candidate as its worker? Only with proof: the
 * registry records it for this (client, HR id), or it carries this client's
 * `externalId` for the HR id, its userName is the hire's email, and it lies in
 * one of the client's divisions. An inactive match is a rehire (reactivated).
 * Refusals name no object the caller may not see.
 */
export function adoptionVerdict (c: Candidate, ctx: OwnershipContext): Verdict {
  const sameHrId = c.externalId === ctx.externalId
  const sameEmail = c.userName.toLowerCase() === ctx.email.toLowerCase()
  const refuse = (): Verdict => ({
    adopt: false,
    issue: sameHrId
      ? { code: 'hrId.taken', path: '/hrId', message: `HR id ${ctx.hrId} belongs to a Genesys user this client does not manage${sameEmail ? '' : ' (with another email)'}` }
      : { code: 'email.taken', path: '/email', message: `${ctx.email} is already in use by another Genesys user` },
  })
  if (ctx.owner) {
    if (ctx.owner.clientId === ctx.clientId && ctx.owner.hrId === ctx.hrId) return { adopt: true, reactivate: !c.active }
    return refuse()
  }
  if (!sameHrId || !sameEmail) return refuse()
  const inDivision = ctx.divisionIds === '*' || (c.divisionId !== undefined && ctx.divisionIds.has(c.divisionId))
  if (!inDivision) return refuse()
  return { adopt: true, reactivate: !c.active }
}
