import { NO_DURABILITY, type Durability, type RedisClient } from '../../redis/connection.js'
import { TERMINAL_SYNC_STATUSES, type GroupMapping, type GroupSync, type GroupSyncStore, type MappingStore } from '../ports.js'
import { GROUP_SYNC_RETENTION_SECONDS, groupKeys as keys } from './keys.js'
import { withScripts } from '../../redis/lua.js'
import { pageFromIndex } from '../../redis/index-page.js'
import { webhookInsertArgs } from '../../webhooks/store/redis.js'

interface GroupScripts {
  groupSyncSave (numKeys: number, ...keysThenArgs: Array<string | number>): Promise<number>
  compareAndDeleteField (key: string, field: string, value: string): Promise<number>
}

const SCRIPTS = {
  groupSyncSave: { file: 'group-sync-save', keys: -1, libs: ['lib-webhook-insert'] },
  compareAndDeleteField: { file: 'compare-and-delete-field', keys: 1 },
}

export function createRedisMappingStore (redisConn: RedisClient): MappingStore {
  const redis = withScripts<GroupScripts>(redisConn, SCRIPTS)
  const parse = (json: string | null | undefined): GroupMapping | undefined => (json ? JSON.parse(json) as GroupMapping : undefined)
  return {
    get: async (hrPath) => parse(await redis.hget(keys.mappings(), hrPath)),
    async claimGroup (groupId, divisionId) {
      // HSETNX is the claim; the read after it names the owner either way.
      await redis.hsetnx(keys.groupOwners(), groupId, divisionId)
      return (await redis.hget(keys.groupOwners(), groupId)) ?? divisionId
    },
    ownerOf: async (groupId) => (await redis.hget(keys.groupOwners(), groupId)) ?? undefined,
    async releaseGroup (groupId, divisionId) {
      await redis.compareAndDeleteField(keys.groupOwners(), groupId, divisionId)
    },
    async put (m) { await redis.hset(keys.mappings(), m.hrPath, JSON.stringify(m)) },
    delete: async (hrPath) => (await redis.hdel(keys.mappings(), hrPath)) === 1,
    async list () {
      const all = await redis.hvals(keys.mappings())
      return all.map((j) => JSON.parse(j) as GroupMapping).sort((a, b) => a.hrPath.localeCompare(b.hrPath))
    },
  }
}

/** Redis adapter of the group sync store; an accepted sync and a state that owes a webhook are confirmed on replicas (`durability`). */
export function createRedisGroupSyncStore (redisConn: RedisClient, durability: Durability = NO_DURABILITY): GroupSyncStore {
  const redis = withScripts<GroupScripts>(redisConn, SCRIPTS)
  const parse = (json: string | null): GroupSync | undefined => (json === null ? undefined : JSON.parse(json) as GroupSync)
  return {
    async insert (s) {
      const created = Date.parse(s.createdAt)
      await redis.multi()
        .set(keys.sync(s.id), JSON.stringify(s), 'EX', GROUP_SYNC_RETENTION_SECONDS)
        .zadd(keys.clientSyncs(s.clientId), created, s.id)
        .zremrangebyscore(keys.clientSyncs(s.clientId), '-inf', `(${created - GROUP_SYNC_RETENTION_SECONDS * 1000}`)
        .zadd(keys.pendingSyncs(), Date.parse(s.updatedAt), s.id)
        .exec()
      await durability.confirm()
    },
    get: async (id) => parse(await redis.get(keys.sync(id))),
    async save (s, outbox) {
      const hook = outbox ? webhookInsertArgs(outbox) : { keys: [], args: [] }
      const allKeys = [keys.sync(s.id), keys.pendingSyncs(), ...hook.keys]
      await redis.groupSyncSave(allKeys.length, ...allKeys, s.id, JSON.stringify(s), Date.parse(s.updatedAt), TERMINAL_SYNC_STATUSES.has(s.status) ? '1' : '0', ...hook.args)
      if (outbox) await durability.confirm()
    },
    list: (clientId, query) => pageFromIndex(redis, {
      index: keys.clientSyncs(clientId),
      recordKey: keys.sync,
      parse,
      keep: (s) => query.hrPath === undefined || s.hrPath === query.hrPath,
      limit: query.limit,
      cursor: query.cursor,
    }),
    pending: (olderThan, limit) => redis.zrangebyscore(keys.pendingSyncs(), '-inf', `(${Date.parse(olderThan)}`, 'LIMIT', 0, limit),
  }
}
