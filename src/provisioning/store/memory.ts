import type { ChangeWindow, EmailReservations, SharedDirectoryCache, IdempotencyBegin, IdempotencyStore, ListQuery, ProvisioningRecord, RequestStore, StoredResponse } from '../ports.js'
import type { Clock } from '../../lib/timers.js'
import { REQUEST_RETENTION_SECONDS, TERMINAL_STATUSES } from '../model.js'
import { OwnedElsewhere, workerCursor, workerMatches, type WorkerEntry, type WorkerOwner, type WorkerRegistry } from '../registry.js'
import type { MemoryDeliveryStore } from '../../webhooks/store/memory.js'
import { keysetPage } from '../../lib/cursor.js'
import { byEffectiveTime } from '../lifecycle.js'

/**
 * In-memory twins of the provisioning stores for the embedded single-process
 * mode. Same contract as the Redis adapters (test/store contract suite); nothing
 * survives a restart.
 */

/** The embedded mode keeps at most this many terminal requests (the oldest go first), each at most the retention period. */
export const MEMORY_MAX_TERMINAL = 10_000
/** The embedded mode keeps at most this many Idempotency-Key outcomes (the soonest to expire go first). */
export const MEMORY_MAX_IDEMPOTENCY = 10_000

export function createMemoryRequestStore (opts: { outbox?: Pick<MemoryDeliveryStore, 'insertNow'>, registry?: Pick<MemoryWorkerRegistry, 'putNow'>, clock?: Clock, maxTerminal?: number, retentionMs?: number } = {}): RequestStore {
  const records = new Map<string, ProvisioningRecord>()
  // Terminal requests in the order they ended: a bounded memory, like the Redis records' retention.
  const ended = new Map<string, number>()
  const now = () => (opts.clock ?? { now: Date.now }).now()
  const maxTerminal = opts.maxTerminal ?? MEMORY_MAX_TERMINAL
  const retentionMs = opts.retentionMs ?? REQUEST_RETENTION_SECONDS * 1000
  function forgetOldTerminal (): void {
    for (const [id, at] of ended) {
      if (ended.size <= maxTerminal && at > now() - retentionMs) break
      ended.delete(id)
      records.delete(id)
    }
  }
  const activeHr = new Map<string, string>()
  const hrKey = (r: Pick<ProvisioningRecord, 'clientId' | 'hrId'>) => `${r.clientId}\u0000${r.hrId}`
  const copy = (r: ProvisioningRecord): ProvisioningRecord => structuredClone(r)
  /** Scheduled request ids and the time (ms) their turn comes. */
  const schedule = new Map<string, number>()
  const effectiveMs = (r: ProvisioningRecord) => Date.parse(r.effectiveAt ?? r.createdAt)

  return {
    async insert (record) {
      if (record.status === 'scheduled') {
        records.set(record.id, copy(record))
        schedule.set(record.id, effectiveMs(record))
        return { inserted: true }
      }
      const holder = activeHr.get(hrKey(record))
      if (holder !== undefined && holder !== record.id) return { inserted: false, existingId: holder }
      activeHr.set(hrKey(record), record.id)
      records.set(record.id, copy(record))
      return { inserted: true }
    },
    async get (id) {
      const r = records.get(id)
      return r ? copy(r) : undefined
    },
    async save (record, outbox, worker) {
      if (worker) {
        if (!opts.registry) throw new Error('this request store was built without a worker registry')
        // First, as in the Redis script: a refused entry writes nothing.
        opts.registry.putNow(worker)
      }
      if (outbox) {
        if (!opts.outbox) throw new Error('this request store was built without a webhook outbox')
        opts.outbox.insertNow(outbox)
      }
      records.set(record.id, copy(record))
      if (TERMINAL_STATUSES.has(record.status)) {
        if (activeHr.get(hrKey(record)) === record.id) activeHr.delete(hrKey(record))
        ended.delete(record.id)
        ended.set(record.id, now())
        forgetOldTerminal()
      } else {
        ended.delete(record.id)
      }
    },
    async list (clientId, query) {
      return listFrom([...records.values()].filter((r) => r.clientId === clientId), query, copy)
    },
    async pending (olderThan, limit) {
      return [...records.values()]
        .filter((r) => !TERMINAL_STATUSES.has(r.status) && r.status !== 'scheduled' && r.updatedAt < olderThan)
        .sort((a, b) => a.updatedAt.localeCompare(b.updatedAt))
        .slice(0, limit)
        .map((r) => r.id)
    },
    async activeFor (clientId, hrId) {
      return activeHr.get(hrKey({ clientId, hrId }))
    },
    async claimHrId (record) {
      const holder = activeHr.get(hrKey(record))
      if (holder !== undefined && holder !== record.id) return false
      activeHr.set(hrKey(record), record.id)
      return true
    },
    async due (nowMs, limit) {
      return [...schedule.entries()]
        .filter(([, at]) => at <= nowMs)
        .sort((a, b) => a[1] - b[1] || a[0].localeCompare(b[0]))
        .slice(0, limit)
        .map(([id]) => id)
    },
    async scheduledFor (clientId, hrId, limit) {
      return [...schedule.keys()]
        .map((id) => records.get(id))
        .filter((r): r is ProvisioningRecord => r !== undefined && r.clientId === clientId && r.hrId === hrId)
        .sort(byEffectiveTime)
        .slice(0, limit)
        .map(copy)
    },
    async unschedule (next, retryAtMs) {
      if (!schedule.has(next.id)) return { state: 'gone' }
      if (!TERMINAL_STATUSES.has(next.status)) {
        const holder = activeHr.get(hrKey(next))
        if (holder !== undefined && holder !== next.id) {
          schedule.set(next.id, retryAtMs)
          return { state: 'busy', holder }
        }
        activeHr.set(hrKey(next), next.id)
      }
      schedule.delete(next.id)
      records.set(next.id, copy(next))
      if (TERMINAL_STATUSES.has(next.status)) {
        ended.set(next.id, now())
        forgetOldTerminal()
      }
      return { state: 'done' }
    },
  }
}

/** Newest first, keyset-paginated on (createdAt, id) so concurrent inserts never shift a page. */
export function listFrom (all: ProvisioningRecord[], query: ListQuery, copy: (r: ProvisioningRecord) => ProvisioningRecord): { items: ProvisioningRecord[], nextCursor?: string } {
  const matching = all.filter((r) => (query.status === undefined || r.status === query.status) &&
    (query.hrId === undefined || r.hrId === query.hrId) &&
    (query.createdAfter === undefined || r.createdAt > query.createdAfter))
  const page = keysetPage(matching, query.limit, query.cursor)
  return { ...page, items: page.items.map(copy) }
}

export type MemoryWorkerRegistry = WorkerRegistry & { putNow (entry: WorkerEntry): void }

export function createMemoryWorkerRegistry (): MemoryWorkerRegistry {
  const entries = new Map<string, WorkerEntry>()
  const owners = new Map<string, WorkerOwner>()
  const key = (clientId: string, hrId: string) => `${clientId}\u0000${hrId}`
  function putNow (entry: WorkerEntry): void {
    const owner = owners.get(entry.genesysUserId)
    if (owner && (owner.clientId !== entry.clientId || owner.hrId !== entry.hrId)) throw new OwnedElsewhere(entry.genesysUserId)
    entries.set(key(entry.clientId, entry.hrId), structuredClone(entry))
    owners.set(entry.genesysUserId, { clientId: entry.clientId, hrId: entry.hrId })
  }
  return {
    putNow,
    async put (entry) { putNow(entry) },
    async get (clientId, hrId) {
      const e = entries.get(key(clientId, hrId))
      return e ? structuredClone(e) : undefined
    },
    async ownerOf (genesysUserId) {
      const o = owners.get(genesysUserId)
      return o ? { ...o } : undefined
    },
    async count (clientId) {
      let n = 0
      for (const e of entries.values()) if (e.clientId === clientId) n++
      return n
    },
    async list (clientId, query) {
      const after = query.cursor === undefined ? undefined : workerCursor.decode(query.cursor)
      const mine = [...entries.values()]
        .filter((e) => e.clientId === clientId && (after === undefined || e.hrId > after) && workerMatches(e, query))
        .sort((a, b) => (a.hrId < b.hrId ? -1 : 1))
      const items = mine.slice(0, query.limit).map((e) => structuredClone(e))
      const last = items.at(-1)
      return mine.length > query.limit && last ? { items, nextCursor: workerCursor.encode(last.hrId) } : { items }
    },
  }
}

export function createMemoryChangeWindow (): ChangeWindow {
  const changes = new Map<string, Array<{ id: string, at: number }>>()
  return {
    async add (clientId, worker, atMs, windowMs) {
      const kept = (changes.get(clientId) ?? []).filter((c) => c.at > atMs - windowMs && c.id !== worker)
      kept.push({ id: worker, at: atMs })
      changes.set(clientId, kept)
      return kept.length
    },
  }
}

export function createMemoryEmailReservations (clock: Clock): EmailReservations {
  const held = new Map<string, { requestId: string, expiresAt: number }>()
  return {
    async reserve (email, requestId, ttlSeconds) {
      const key = email.toLowerCase()
      const current = held.get(key)
      if (current && current.expiresAt > clock.now() && current.requestId !== requestId) return current.requestId
      held.set(key, { requestId, expiresAt: clock.now() + ttlSeconds * 1000 })
      return requestId
    },
    async holder (email) {
      const current = held.get(email.toLowerCase())
      return current && current.expiresAt > clock.now() ? current.requestId : undefined
    },
    async release (email, requestId) {
      const key = email.toLowerCase()
      if (held.get(key)?.requestId === requestId) held.delete(key)
    },
  }
}

export function createMemoryIdempotencyStore (clock: Clock, opts: { maxEntries?: number } = {}): IdempotencyStore {
  type Entry = { fingerprint: string, expiresAt: number, response?: StoredResponse }
  const entries = new Map<string, Entry>()
  const k = (clientId: string, key: string) => `${clientId}\u0000${key}`
  const maxEntries = opts.maxEntries ?? MEMORY_MAX_IDEMPOTENCY
  /** Past the cap, expired entries go, then those closest to expiring, down to 90 % of it (not one at every call). */
  function prune (): void {
    if (entries.size <= maxEntries) return
    for (const [key, entry] of entries) if (entry.expiresAt <= clock.now()) entries.delete(key)
    const keep = Math.floor(maxEntries * 0.9)
    if (entries.size <= keep) return
    const bySoonest = [...entries.entries()].sort((a, b) => a[1].expiresAt - b[1].expiresAt)
    for (const [key] of bySoonest.slice(0, entries.size - keep)) entries.delete(key)
  }
  return {
    async begin (clientId, key, fingerprint, lockSeconds): Promise<IdempotencyBegin> {
      const entry = entries.get(k(clientId, key))
      if (entry && entry.expiresAt > clock.now()) {
        if (entry.fingerprint !== fingerprint) return { state: 'mismatch' }
        return entry.response ? { state: 'replay', response: structuredClone(entry.response) } : { state: 'in-flight' }
      }
      entries.set(k(clientId, key), { fingerprint, expiresAt: clock.now() + lockSeconds * 1000 })
      prune()
      return { state: 'new' }
    },
    async complete (clientId, key, fingerprint, response, ttlSeconds) {
      entries.set(k(clientId, key), { fingerprint, response: structuredClone(response), expiresAt: clock.now() + ttlSeconds * 1000 })
    },
    async abandon (clientId, key) {
      const entry = entries.get(k(clientId, key))
      if (entry && !entry.response) entries.delete(k(clientId, key))
    },
  }
}

/** The memory twin of the fleet's directory cache (one process: the same contract, nothing shared). */
export function createMemoryDirectoryCache (clock: Clock): SharedDirectoryCache {
  const entries = new Map<string, { until: number, entry: { found: true, value: unknown } | { found: false } }>()
  return {
    async get (key) {
      const hit = entries.get(key)
      return hit && hit.until > clock.now() ? structuredClone(hit.entry) : undefined
    },
    async set (key, entry, ttlMs) {
      entries.set(key, { until: clock.now() + ttlMs, entry: structuredClone(entry) })
    },
    async clear () {
      entries.clear()
    },
  }
}
