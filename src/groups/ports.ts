import type { Delivery } from '../webhooks/ports.js'

/**
 * Groups: HR group paths mapped to flat Genesys groups (which feed routing
 * queues), and membership syncs from the HR system. A mapping belongs to one
 * division: the tenant boundary for every client that touches it.
 */

export interface GroupMapping {
  /** Canonical HR group path (segments trimmed, joined by `/`). */
  hrPath: string
  /** The division whose clients may use and change this mapping (its Genesys name). */
  division: string
  /** The division's Genesys id: ownership is compared by id (absent on mappings stored before ids were kept). */
  divisionId?: string
  /** True when the group is owned by another division's mapping and an admin shared it with this one. */
  shared?: boolean
  genesysGroup: { id: string, name: string }
  queues: Array<{ id: string, name: string }>
  createdAt: string
  updatedAt: string
  /** The client that last changed it. */
  updatedBy: string
}

export interface MappingStore {
  get (hrPath: string): Promise<GroupMapping | undefined>
  put (mapping: GroupMapping): Promise<void>
  delete (hrPath: string): Promise<boolean>
  /** Every mapping, by path (mappings are few: one per HR team). */
  list (): Promise<GroupMapping[]>
  /**
   * Claims a Genesys group for a division (by id) unless another division owns
   * it; returns the owning division id (this one when the claim holds).
   */
  claimGroup (groupId: string, divisionId: string): Promise<string>
  /** The division id owning a group, if any. */
  ownerOf (groupId: string): Promise<string | undefined>
  /** Gives up a division's claim (when its last mapping of the group is gone). */
  releaseGroup (groupId: string, divisionId: string): Promise<void>
}

export type GroupSyncStatus = 'accepted' | 'running' | 'completed' | 'needs-confirmation' | 'failed'
export const TERMINAL_SYNC_STATUSES: ReadonlySet<GroupSyncStatus> = new Set(['completed', 'needs-confirmation', 'failed'])

export type GroupSyncChange =
  | { mode: 'replace', members: string[] }
  | { mode: 'delta', add: string[], remove: string[] }

export interface GroupSyncResult {
  /** HR ids added to / removed from the group by this sync. */
  added: string[]
  removed: string[]
  /** Group members that are no HR id we know (removed in replace mode): their Genesys user ids. */
  removedUnmapped: string[]
  /** Members left in place because this client does not manage them (a count: their ids are not the caller's to see). */
  keptUnowned?: number
  /** HR ids with no Genesys user (reported, not fatal). */
  unknownHrIds: string[]
  /** Membership before and after. */
  membersBefore: number
  membersAfter: number
  /** SCIM PATCH requests sent, and version conflicts met (each re-read and recomputed). */
  patches: number
  conflicts: number
}

export interface GroupSync {
  id: string
  clientId: string
  hrPath: string
  division: string
  groupId: string
  change: GroupSyncChange
  /** `?confirm=true`: removals above the brake are allowed. */
  confirmed: boolean
  status: GroupSyncStatus
  createdAt: string
  updatedAt: string
  attempts: number
  result?: GroupSyncResult
  /** Why the brake held, or why the sync failed. */
  error?: { code: string, message: string, correlationId?: string }
  webhookId?: string
}

export interface GroupSyncStore {
  insert (sync: GroupSync): Promise<void>
  get (id: string): Promise<GroupSync | undefined>
  /** Replaces the record; with `outbox`, the webhook it owes is written in the same atomic step. */
  save (sync: GroupSync, outbox?: Delivery): Promise<void>
  list (clientId: string, query: { hrPath?: string, limit: number, cursor?: string }): Promise<{ items: GroupSync[], nextCursor?: string }>
  /** Ids of non-terminal syncs last updated before `olderThan` (ISO), oldest first: queued again after a crash. */
  pending (olderThan: string, limit: number): Promise<string[]>
}

export interface GroupSyncJob {
  syncId: string
}

/**
 * Serialises read-modify-writes of one Genesys queue. Queues carry no version,
 * so two writers (replicas of this service) that read the same queue and each
 * PUT it back lose one change silently. The memory twin serialises one
 * process; the Redis twin the whole fleet. Writers outside the fleet (an admin,
 * Terraform) are caught by the re-read after the PUT, not by this lock.
 */
export interface QueueLock {
  /**
   * Runs `fn` while holding the lock of `queueId` and releases it however `fn`
   * ends. Waits for a busy lock up to the twin's bound, then throws a retryable
   * 503 (`PROV_ERR_UNAVAILABLE`) without running `fn`.
   */
  withLock<T> (queueId: string, fn: () => Promise<T>): Promise<T>
}
