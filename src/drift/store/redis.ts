import type { RedisClient } from '../../redis/connection.js'
import { DRIFT_RETENTION_SECONDS, type DriftFinding, type DriftStore, type ReconciliationRun } from '../ports.js'
import { driftKeys as keys } from './keys.js'

/** Redis adapter of the drift store. */
export function createRedisDriftStore (redis: RedisClient): DriftStore {
  return {
    insertRun: async (run) => (await redis.set(keys.run(run.id), JSON.stringify(run), 'EX', DRIFT_RETENTION_SECONDS, 'NX')) !== null,
    async saveRun (run) { await redis.set(keys.run(run.id), JSON.stringify(run), 'KEEPTTL') },
    async getRun (id) {
      const json = await redis.get(keys.run(id))
      return json === null ? undefined : JSON.parse(json) as ReconciliationRun
    },
    async replace (clientId, findings) { await redis.set(keys.current(clientId), JSON.stringify(findings), 'EX', DRIFT_RETENTION_SECONDS) },
    async current (clientId) {
      const json = await redis.get(keys.current(clientId))
      return json === null ? [] : JSON.parse(json) as DriftFinding[]
    },
  }
}
