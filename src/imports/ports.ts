import type { AuthenticatedClient } from '../config/clients.js'
import type { Issue } from '../errors.js'
import type { RequestKind, WorkerDesired } from '../provisioning/model.js'

/** Most roster records in one import. */
export const MAX_IMPORT_RECORDS = 5000

/** One valid roster record. */
export interface RosterRecord { index: number, hrId: string, desired: WorkerDesired }

/** One roster record as the HTTP layer read it: valid, or refused with its issues. */
export type ImportEntry = RosterRecord | { index: number, hrId?: string, issues: Issue[] }

/** `running` until the roster is matched (and, for apply, sent); then `completed`, or `failed` with `error`. */
export const IMPORT_STATUSES = ['running', 'completed', 'failed'] as const
export type ImportStatus = typeof IMPORT_STATUSES[number]

export const IMPORT_MODES = ['plan', 'apply'] as const
export type ImportMode = typeof IMPORT_MODES[number]

/**
 * - `matched`: an existing Genesys user is this record's worker (`matchedBy` says how);
 * - `create`: no user: the worker would be (on apply: is) hired;
 * - `conflict`: a user blocks the record and is left alone (`conflict` says why);
 * - `invalid`: the record itself is refused (`issues`).
 */
export const IMPORT_OUTCOMES = ['matched', 'create', 'conflict', 'invalid'] as const
export type ImportOutcome = typeof IMPORT_OUTCOMES[number]

export const MATCHED_BY = ['registry', 'externalId', 'bareHrId', 'email'] as const
export type MatchedBy = typeof MATCHED_BY[number]

/** How the Genesys user differs from the roster (only what differs is present). */
export interface ImportDifferences {
  division?: { genesys: string, roster: string }
  active?: { genesys: boolean, roster: boolean }
  email?: { genesys: string, roster: string }
  /** Roster roles the user does not hold. */
  rolesToAdd?: string[]
  /** Roster HR group paths whose Genesys group the user is not in. */
  groupsToJoin?: string[]
}

export interface ImportRow {
  index: number
  hrId?: string
  email?: string
  outcome: ImportOutcome
  matchedBy?: MatchedBy
  genesysUserId?: string
  differences?: ImportDifferences
  conflict?: { code: string, message: string }
  issues?: Issue[]
  /** After apply: what was done (`registered` as owned; the request the lifecycle made of the record). */
  registered?: boolean
  change?: RequestKind | 'none'
  requestId?: string
  /** After apply: why the lifecycle refused the record. */
  applyIssues?: Issue[]
}

/** A Genesys user in the client's divisions that no record matched. */
export interface UnmanagedUser {
  genesysUserId: string
  userName: string
  active: boolean
  division?: string
  externalId?: string
}

export interface ImportCounts { matched: number, create: number, conflict: number, invalid: number, unmanaged: number }

export interface RosterImport {
  id: string
  clientId: string
  /** The caller as it was authenticated (no key material): the job acts for it. */
  client: AuthenticatedClient
  mode: ImportMode
  status: ImportStatus
  createdAt: string
  updatedAt: string
  completedAt?: string
  error?: { code: string, message: string }
  attempts: number
  total: number
  counts: ImportCounts
  rows: ImportRow[]
  unmanaged: UnmanagedUser[]
  /** Genesys calls the matching made. */
  upstreamCalls: number
  originRequestId?: string
}

export interface ImportStore {
  /** Stores a new import with its roster (read back by the job). */
  insert (imp: RosterImport, roster: readonly ImportEntry[]): Promise<void>
  get (id: string): Promise<RosterImport | undefined>
  roster (id: string): Promise<ImportEntry[] | undefined>
  /** Replaces the import; a finished one lets its roster go. */
  save (imp: RosterImport): Promise<void>
}

export interface ImportJob { importId: string }

/** How long an import resource is kept. */
export const IMPORT_RETENTION_SECONDS = 30 * 24 * 3600
