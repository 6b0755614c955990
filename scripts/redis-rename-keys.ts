/**
 * Renames the keys of a version before the cluster hash tags to their tagged
 * names, on the Redis the environment names (REDIS_URL or REDIS_SENTINELS and
 * their settings). Run once, with every replica of the service stopped:
 *
 *   npm run redis:rename-keys
 */
import { Cluster } from 'ioredis'
import { loadConfig } from '../src/config/load-config.js'
import { createRedisClient, redisTarget } from '../src/redis/connection.js'
import { renameLegacyKeys } from '../src/redis/legacy-keys.js'

const config = loadConfig(process.env)
if (!config.redis) {
  console.error('No Redis configured: set REDIS_URL or REDIS_SENTINELS (and REDIS_SENTINEL_NAME).')
  process.exit(1)
}
const client = createRedisClient(config.redis)
if (client instanceof Cluster) {
  console.error('A cluster holds no keys of an earlier version (those versions did not run on a cluster): nothing to rename.')
  process.exit(0)
}
client.on('error', () => {})
await client.connect()
const { renamed, kept } = await renameLegacyKeys(client)
console.log(`${redisTarget(config.redis)}: ${renamed} key(s) renamed${kept.length > 0 ? `; ${kept.length} left under the old name because the new name exists: ${kept.slice(0, 10).join(', ')}${kept.length > 10 ? ', …' : ''}` : ''}`)
client.disconnect()
