import { NO_DURABILITY, type Durability, type RedisClient } from '../../redis/connection.js'
import { IMPORT_RETENTION_SECONDS, type ImportStore, type RosterImport } from '../ports.js'
import { importKeys as keys } from './keys.js'

/** Redis adapter of the import store. */
export function createRedisImportStore (redis: RedisClient, durability: Durability = NO_DURABILITY): ImportStore {
  return {
    async insert (imp) {
      await redis.set(keys.import(imp.id), JSON.stringify(imp), 'EX', IMPORT_RETENTION_SECONDS)
      await durability.confirm()
    },
    async get (id) {
      const json = await redis.get(keys.import(id))
      return json === null ? undefined : JSON.parse(json) as RosterImport
    },
  }
}
