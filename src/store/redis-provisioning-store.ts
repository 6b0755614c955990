import type { Redis } from 'ioredis'
import type { EmailReservations, IdempotencyBegin, IdempotencyStore, ProvisioningRecord, RequestStore, StoredResponse } from '../provisioning/ports.js'
import { TERMINAL_STATUSES } from '../provisioning/ports.js'
import { pageFromIndex } from './redis-index-page.js'
import { withScripts } from './lua.js'
import { provisioningKeys as keys, REQUEST_RETENTION_SECONDS } from './provisioning-keys.js'
import { webhookInsertArgs } from './redis-webhook-store.js'

interface ProvScripts {
  provInsertRequest (hrKey: string, recordKey: string, indexKey: string, pendingKey: string, id: string, json: string, createdMs: number, updatedMs: number): Promise<string>
  /** Variable keys: 3 for the record, 4 more with a webhook delivery (see the script). */
  provSaveRequest (numKeys: number, ...keysThenArgs: Array<string | number>): Promise<number>
  claimIfFree (key: string, value: string, ttlSeconds: number): Promise<string>
  compareAndDelete (key: string, value: string): Promise<number>
  idempotencyBegin (key: string, fingerprint: string, lockSeconds: number): Promise<string[]>
  idempotencyAbandon (key: string): Promise<number>
}

const SCRIPTS = {
  provInsertRequest: { file: 'prov-insert-request', keys: 4 },
  provSaveRequest: { file: 'prov-save-request', keys: -1, libs: ['lib-webhook-insert'] },
  claimIfFree: { file: 'claim-if-free', keys: 1 },
  compareAndDelete: { file: 'compare-and-delete', keys: 1 },
  idempotencyBegin: { file: 'idempotency-begin', keys: 1 },
  idempotencyAbandon: { file: 'idempotency-abandon', keys: 1 },
}

const ms = (iso: string) => Date.parse(iso)
const parse = (json: string | null): ProvisioningRecord | undefined => (json === null ? undefined : JSON.parse(json) as ProvisioningRecord)

/** Redis adapter of the request store; every multi-key change is one Lua script. */
export function createRedisRequestStore (redisConn: Redis, opts: { retentionSeconds?: number } = {}): RequestStore {
  const redis = withScripts<ProvScripts>(redisConn, SCRIPTS)
  const retention = opts.retentionSeconds ?? REQUEST_RETENTION_SECONDS
  return {
    async insert (record) {
      const holder = await redis.provInsertRequest(
        keys.activeHrId(record.clientId, record.hrId), keys.request(record.id), keys.clientIndex(record.clientId), keys.pending(),
        record.id, JSON.stringify(record), ms(record.createdAt), ms(record.updatedAt))
      return holder === '' ? { inserted: true } : { inserted: false, existingId: holder }
    },
    async get (id) {
      return parse(await redis.get(keys.request(id)))
    },
    async save (record, outbox) {
      const recordKeys = [keys.request(record.id), keys.pending(), keys.activeHrId(record.clientId, record.hrId)]
      const recordArgs = [record.id, JSON.stringify(record), ms(record.updatedAt), TERMINAL_STATUSES.has(record.status) ? '1' : '0', retention]
      // The state change and the webhook it owes are one script: both or neither.
      const hook = outbox ? webhookInsertArgs(outbox) : { keys: [], args: [] }
      const allKeys = [...recordKeys, ...hook.keys]
      await redis.provSaveRequest(allKeys.length, ...allKeys, ...recordArgs, ...hook.args)
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
    async claimHrId (record) {
      return (await redis.claimIfFree(keys.activeHrId(record.clientId, record.hrId), record.id, 0)) === record.id
    },
  }
}

export function createRedisEmailReservations (redisConn: Redis): EmailReservations {
  const redis = withScripts<ProvScripts>(redisConn, SCRIPTS)
  return {
    reserve: (email, requestId, ttlSeconds) => redis.claimIfFree(keys.emailReservation(email), requestId, ttlSeconds),
    async holder (email) {
      return (await redis.get(keys.emailReservation(email))) ?? undefined
    },
    async release (email, requestId) {
      await redis.compareAndDelete(keys.emailReservation(email), requestId)
    },
  }
}

export function createRedisIdempotencyStore (redisConn: Redis): IdempotencyStore {
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
    },
    async abandon (clientId, key) {
      await redis.idempotencyAbandon(keys.idempotency(clientId, key))
    },
  }
}
