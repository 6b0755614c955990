import { NO_DURABILITY, type Durability, type RedisClient } from '../../redis/connection.js'
import type { ChangeWindow, EmailReservations, SharedDirectoryCache, IdempotencyBegin, IdempotencyStore, ProvisioningRecord, RequestStore, StoredResponse } from '../ports.js'
import { TERMINAL_STATUSES } from '../model.js'
import { OwnedElsewhere, workerCursor, workerMatches, type WorkerEntry, type WorkerOwner, type WorkerRegistry } from '../registry.js'
import { pageFromIndex } from '../../redis/index-page.js'
import { withScripts } from '../../redis/lua.js'
import { provisioningKeys as keys, REQUEST_RETENTION_SECONDS } from './keys.js'
import { webhookInsertArgs } from '../../webhooks/store/redis.js'
import { byEffectiveTime } from '../lifecycle.js'

interface ProvScripts {
  provInsertRequest (hrKey: string, recordKey: string, indexKey: string, pendingKey: string, scheduleKey: string, workerScheduleKey: string, id: string, json: string, createdMs: number, updatedMs: number, effectiveMs: number | ''): Promise<string>
  provUnscheduleRequest (recordKey: string, pendingKey: string, hrKey: string, scheduleKey: string, workerScheduleKey: string, id: string, json: string, updatedMs: number, terminal: '1' | '0', retentionSeconds: number, retryAtMs: number): Promise<string>
  /** Variable keys: 3 for the record, 4 more with a webhook delivery (see the script). */
  provSaveRequest (numKeys: number, ...keysThenArgs: Array<string | number>): Promise<number>
  claimIfFree (key: string, value: string, ttlSeconds: number): Promise<string>
  compareAndDelete (key: string, value: string): Promise<number>
  idempotencyBegin (key: string, fingerprint: string, lockSeconds: number): Promise<string[]>
  idempotencyAbandon (key: string): Promise<number>
  registryPut (entryKey: string, ownerKey: string, indexKey: string, entryJson: string, ownerJson: string, hrId: string): Promise<number>
}

const SCRIPTS = {
  provInsertRequest: { file: 'prov-insert-request', keys: 6 },
  provUnscheduleRequest: { file: 'prov-unschedule-request', keys: 5 },
  provSaveRequest: { file: 'prov-save-request', keys: -1, libs: ['lib-webhook-insert'] },
  claimIfFree: { file: 'claim-if-free', keys: 1 },
  compareAndDelete: { file: 'compare-and-delete', keys: 1 },
  idempotencyBegin: { file: 'idempotency-begin', keys: 1 },
  idempotencyAbandon: { file: 'idempotency-abandon', keys: 1 },
  registryPut: { file: 'registry-put', keys: 3 },
}

const ms = (iso: string) => Date.parse(iso)
/** A worker list page reads the index in batches of this many, at most this many batches. */
const LIST_BATCH = 100
const LIST_BATCHES = 10
const parse = (json: string | null): ProvisioningRecord | undefined => (json === null ? undefined : JSON.parse(json) as ProvisioningRecord)

/**
 * Redis adapter of the request store; every multi-key change is one Lua script.
 * An accepted record and a state that owes a webhook are confirmed on replicas
 * (`durability`) before they are acknowledged.
 */
export function createRedisRequestStore (redisConn: RedisClient, opts: { retentionSeconds?: number, durability?: Durability } = {}): RequestStore {
  const redis = withScripts<ProvScripts>(redisConn, SCRIPTS)
  const durability = opts.durability ?? NO_DURABILITY
  const retention = opts.retentionSeconds ?? REQUEST_RETENTION_SECONDS
  return {
    async insert (record) {
      const holder = await redis.provInsertRequest(
        keys.activeHrId(record.clientId, record.hrId), keys.request(record.id), keys.clientIndex(record.clientId), keys.pending(),
        keys.schedule(), keys.workerSchedule(record.clientId, record.hrId),
        record.id, JSON.stringify(record), ms(record.createdAt), ms(record.updatedAt), record.status === 'scheduled' ? ms(record.effectiveAt ?? record.createdAt) : '')
      if (holder !== '') return { inserted: false, existingId: holder }
      await durability.confirm()
      return { inserted: true }
    },
    async get (id) {
      return parse(await redis.get(keys.request(id)))
    },
    async save (record, outbox, worker) {
      const recordKeys = [keys.request(record.id), keys.pending(), keys.activeHrId(record.clientId, record.hrId)]
      const recordArgs = [record.id, JSON.stringify(record), ms(record.updatedAt), TERMINAL_STATUSES.has(record.status) ? '1' : '0', retention]
      // The state change, the registry entry it proves and the webhook it owes
      // are one script: all or nothing.
      const reg = worker ? registryArgs(worker) : { keys: [], args: [] }
      const hook = outbox ? webhookInsertArgs(outbox) : { keys: [], args: [] }
      const allKeys = [...recordKeys, ...reg.keys, ...hook.keys]
      const written = await redis.provSaveRequest(allKeys.length, ...allKeys, ...recordArgs, reg.keys.length, ...reg.args, ...hook.args)
      if (written === -1 && worker) throw new OwnedElsewhere(worker.genesysUserId)
      if (outbox) await durability.confirm()
    },
    async list (clientId, query) {
      return pageFromIndex(redis, {
        index: keys.clientIndex(clientId),
        recordKey: keys.request,
        parse,
        keep: (r) => (query.status === undefined || r.status === query.status) && (query.hrId === undefined || r.hrId === query.hrId),
        limit: query.limit,
        cursor: query.cursor,
        createdAfter: query.createdAfter,
      })
    },
    async pending (olderThan, limit) {
      return redis.zrangebyscore(keys.pending(), '-inf', `(${ms(olderThan)}`, 'LIMIT', 0, limit)
    },
    async activeFor (clientId, hrId) {
      return (await redis.get(keys.activeHrId(clientId, hrId))) ?? undefined
    },
    async claimHrId (record) {
      return (await redis.claimIfFree(keys.activeHrId(record.clientId, record.hrId), record.id, 0)) === record.id
    },
    async due (nowMs, limit) {
      return redis.zrangebyscore(keys.schedule(), '-inf', nowMs, 'LIMIT', 0, limit)
    },
    async scheduledFor (clientId, hrId, limit) {
      const ids = await redis.zrange(keys.workerSchedule(clientId, hrId), 0, limit - 1)
      if (ids.length === 0) return []
      const found = (await redis.mget(ids.map(keys.request))).map(parse)
      return found.filter((r): r is ProvisioningRecord => r !== undefined && r.status === 'scheduled').sort(byEffectiveTime)
    },
    async unschedule (next, retryAtMs) {
      const answer = await redis.provUnscheduleRequest(
        keys.request(next.id), keys.pending(), keys.activeHrId(next.clientId, next.hrId), keys.schedule(), keys.workerSchedule(next.clientId, next.hrId),
        next.id, JSON.stringify(next), ms(next.updatedAt), TERMINAL_STATUSES.has(next.status) ? '1' : '0', retention, retryAtMs)
      if (answer === 'gone') return { state: 'gone' }
      if (answer !== 'done') return { state: 'busy', holder: answer }
      await durability.confirm()
      return { state: 'done' }
    },
  }
}

function registryArgs (entry: WorkerEntry): { keys: string[], args: string[] } {
  return {
    keys: [keys.worker(entry.clientId, entry.hrId), keys.workerOwner(entry.genesysUserId), keys.workerIndex(entry.clientId)],
    args: [JSON.stringify(entry), ownerJson(entry), entry.hrId],
  }
}

const ownerJson = (o: WorkerOwner) => JSON.stringify({ clientId: o.clientId, hrId: o.hrId })

/**
 * Claims on a value while a request is in flight, across clients: emails, or
 * Genesys externalIds (so two clients' requests for one externalId serialise).
 */
export function createRedisEmailReservations (redisConn: RedisClient, kind: 'email' | 'externalId' = 'email'): EmailReservations {
  const redis = withScripts<ProvScripts>(redisConn, SCRIPTS)
  const key = kind === 'email' ? keys.emailReservation : keys.externalIdReservation
  return {
    reserve: (value, requestId, ttlSeconds) => redis.claimIfFree(key(value), requestId, ttlSeconds),
    async holder (value) {
      return (await redis.get(key(value))) ?? undefined
    },
    async release (value, requestId) {
      await redis.compareAndDelete(key(value), requestId)
    },
  }
}

/** Redis adapter of the worker registry (entries are written by the request store's save script). */
export function createRedisWorkerRegistry (redisConn: RedisClient): WorkerRegistry {
  const redis = withScripts<ProvScripts>(redisConn, SCRIPTS)
  return {
    async get (clientId, hrId) {
      const json = await redis.get(keys.worker(clientId, hrId))
      return json === null ? undefined : JSON.parse(json) as WorkerEntry
    },
    async ownerOf (genesysUserId) {
      const json = await redis.get(keys.workerOwner(genesysUserId))
      return json === null ? undefined : JSON.parse(json) as WorkerOwner
    },
    async put (entry) {
      const { keys: k, args } = registryArgs(entry)
      if ((await redis.registryPut(k[0] ?? '', k[1] ?? '', k[2] ?? '', args[0] ?? '', args[1] ?? '', args[2] ?? '')) === -1) throw new OwnedElsewhere(entry.genesysUserId)
    },
    async count (clientId) {
      return redis.zcard(keys.workerIndex(clientId))
    },
    async list (clientId, query) {
      // HR ids in order from the client's index, entries read in batches; filters
      // may skip entries, so the scan is bounded and a page may come back short.
      const after = query.cursor === undefined ? undefined : workerCursor.decode(query.cursor)
      const items: WorkerEntry[] = []
      let from = after === undefined ? '-' : `(${after}`
      for (let batch = 0; batch < LIST_BATCHES; batch++) {
        const ids = await redis.zrangebylex(keys.workerIndex(clientId), from, '+', 'LIMIT', 0, LIST_BATCH)
        if (ids.length === 0) return { items }
        const jsons = await redis.mget(...ids.map((id) => keys.worker(clientId, id)))
        for (let i = 0; i < ids.length; i++) {
          const json = jsons[i]
          const entry = json === null || json === undefined ? undefined : JSON.parse(json) as WorkerEntry
          if (entry && workerMatches(entry, query)) items.push(entry)
          if (items.length === query.limit) {
            const more = i < ids.length - 1 || (await redis.zrangebylex(keys.workerIndex(clientId), `(${ids[i] ?? ''}`, '+', 'LIMIT', 0, 1)).length > 0
            return more ? { items, nextCursor: workerCursor.encode(ids[i] ?? '') } : { items }
          }
        }
        if (ids.length < LIST_BATCH) return { items }
        from = `(${ids.at(-1) ?? ''}`
      }
      const last = from.slice(1)
      return { items, nextCursor: workerCursor.encode(last) }
    },
  }
}

/** Redis adapter of the mass-change window: one sorted set per client, trimmed to the window on each change. */
export function createRedisChangeWindow (redis: RedisClient): ChangeWindow {
  return {
    async add (clientId, worker, atMs, windowMs) {
      const key = keys.changeWindow(clientId)
      const replies = await redis.multi()
        .zremrangebyscore(key, '-inf', atMs - windowMs)
        .zadd(key, atMs, worker)
        .zcard(key)
        .pexpire(key, windowMs)
        .exec()
      const [err, count] = replies?.[2] ?? [new Error('the change window transaction was not executed'), undefined]
      if (err || typeof count !== 'number') throw err ?? new Error('the change window answered no count')
      return count
    },
  }
}

/** Redis adapter of the Idempotency-Key store; an outcome is confirmed on replicas (`durability`) before it is answered. */
export function createRedisIdempotencyStore (redisConn: RedisClient, durability: Durability = NO_DURABILITY): IdempotencyStore {
  const redis = withScripts<ProvScripts>(redisConn, SCRIPTS)
  return {
    async begin (clientId, key, fingerprint, lockSeconds): Promise<IdempotencyBegin> {
      const [state, response] = await redis.idempotencyBegin(keys.idempotency(clientId, key), fingerprint, lockSeconds)
      if (state === 'replay' && response !== undefined) return { state, response: JSON.parse(response) as StoredResponse }
      if (state === 'mismatch' || state === 'in-flight') return { state }
      return { state: 'new' }
    },
    async complete (clientId, key, fingerprint, response, ttlSeconds) {
      const k = keys.idempotency(clientId, key)
      await redis.multi().hset(k, 'fp', fingerprint, 'response', JSON.stringify(response)).expire(k, ttlSeconds).exec()
      await durability.confirm()
    },
    async abandon (clientId, key) {
      await redis.idempotencyAbandon(keys.idempotency(clientId, key))
    },
  }
}

/**
 * Upgrading from a version before the worker list: puts every registry entry's
 * HR id in its client's index (`workerIndex`), which the service itself writes
 * with each entry since. A maintenance step (`npm run redis:index-workers`),
 * never a sweep of the running service: it SCANs the records' slot on each node
 * it is given. Idempotent; entries already indexed stay as they are.
 */
export async function indexRegistryEntries (nodes: readonly RedisClient[]): Promise<{ entries: number, clients: number }> {
  const clients = new Set<string>()
  let entries = 0
  const pattern = keys.workerPattern()
  for (const node of nodes) {
    let cursor = '0'
    do {
      const [next, found] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 500)
      cursor = next
      const jsons = found.length === 0 ? [] : await node.mget(...found)
      for (const json of jsons) {
        if (json === null || json === undefined) continue
        const entry = JSON.parse(json) as Partial<WorkerEntry>
        if (typeof entry.clientId !== 'string' || typeof entry.hrId !== 'string') continue
        await node.zadd(keys.workerIndex(entry.clientId), 0, entry.hrId)
        clients.add(entry.clientId)
        entries++
      }
    } while (cursor !== '0')
  }
  return { entries, clients: clients.size }
}

/**
 * Redis adapter of the fleet's directory cache: one hash per OAuth client,
 * each field an entry with its expiry; the hash itself expires when nothing
 * is written to it for a while, and `clear` drops it whole.
 */
export function createRedisDirectoryCache (redis: RedisClient, oauthClient: string, clock: { now (): number }): SharedDirectoryCache {
  const key = keys.directoryCache(oauthClient)
  type Stored = { e: number, entry: { found: true, value: unknown } | { found: false } }
  return {
    async get (field) {
      const json = await redis.hget(key, field)
      if (json === null) return undefined
      const stored = JSON.parse(json) as Stored
      return stored.e > clock.now() ? stored.entry : undefined
    },
    async set (field, entry, ttlMs) {
      await redis.multi().hset(key, field, JSON.stringify({ e: clock.now() + ttlMs, entry })).pexpire(key, Math.max(ttlMs * 2, 60_000)).exec()
    },
    async clear () {
      await redis.del(key)
    },
  }
}
