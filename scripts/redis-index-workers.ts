/**
 * Upgrading from a version before `GET /v1/workers`: indexes every worker
 * registry entry under its client, on the Redis the environment names
 * (REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES and their settings), so the
 * list shows workers recorded before the upgrade. Safe to run while the service
 * runs, and again:
 *
 *   npm run redis:index-workers
 */
import { Cluster } from 'ioredis'
import { loadConfig } from '../src/config/load-config.js'
import { createRedisClient, redisTarget } from '../src/redis/connection.js'
import { indexRegistryEntries } from '../src/provisioning/store/redis.js'

const config = loadConfig(process.env)
if (!config.redis) {
  console.error('No Redis configured: set REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES.')
  process.exit(1)
}
const client = createRedisClient(config.redis)
client.on('error', () => {})
await client.connect()
const nodes = client instanceof Cluster ? client.nodes('master') : [client]
const { entries, clients } = await indexRegistryEntries(nodes)
console.log(`${redisTarget(config.redis)}: ${entries} worker registry entr${entries === 1 ? 'y' : 'ies'} of ${clients} client(s) indexed`)
client.disconnect()
