import { NO_DURABILITY, type Durability, type RedisClient } from '../../redis/connection.js'
import { IMPORT_RETENTION_SECONDS, type ImportEntry, type ImportStore, type RosterImport } from '../ports.js'
import { importKeys as keys } from './keys.js'

/** Redis adapter of the import store. */
export function createRedisImportStore (redis: RedisClient, durability: Durability = NO_DURABILITY): ImportStore {
  return {
    async insert (imp, roster) {
      await redis.multi()
        .set(keys.import(imp.id), JSON.stringify(imp), 'EX', IMPORT_RETENTION_SECONDS)
        .set(keys.roster(imp.id), JSON.stringify(roster), 'EX', IMPORT_RETENTION_SECONDS)
        .exec()
      await durability.confirm()
    },
    async get (id) {
      const json = await redis.get(keys.import(id))
      return json === null ? undefined : JSON.parse(json) as RosterImport
    },
    async roster (id) {
      const json = await redis.get(keys.roster(id))
      return json === null ? undefined : JSON.parse(json) as ImportEntry[]
    },
    async save (imp) {
      const tx = redis.multi().set(keys.import(imp.id), JSON.stringify(imp), 'KEEPTTL')
      if (imp.status !== 'running') tx.del(keys.roster(imp.id))
      await tx.exec()
      await durability.confirm()
    },
  }
}
