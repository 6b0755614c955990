import t from 'tap'
import { Redis } from 'ioredis'
import { createRedisRequestStore } from '../../src/provisioning/store/redis.js'
import { createRedisClient, openRedis } from '../../src/redis/connection.js'
import { legacyKeysPresent, renameLegacyKeys } from '../../src/redis/legacy-keys.js'
import { provisioningKeys } from '../../src/provisioning/store/keys.js'
import { webhookKeys } from '../../src/webhooks/store/keys.js'
import { requestRecord } from '../helpers/records.js'
import { redisBinary, startRedis } from '../helpers/redis.js'

t.test('keys of a version before the hash tags: readiness says to rename them, and the rename keeps data and lifetimes', { skip: redisBinary.skip }, async (t) => {
  const server = await startRedis()
  t.teardown(() => server.stop())
  const redis = new Redis(server.url)
  t.teardown(() => redis.disconnect())
  const record = requestRecord({ id: 'r-old', status: 'accepted' })
  // As an earlier version wrote them.
  await redis.set('prov:req:r-old', JSON.stringify(record))
  await redis.zadd('prov:pending', 1, 'r-old')
  await redis.set('wh:dlv:d1', '{}', 'EX', 3600)
  await redis.zadd('wh:outbox', 1, 'd1')
  await redis.set('prov:email:abc', 'r-old', 'EX', 60)
  await redis.set('grp:queue-lock:q1', 'holder', 'PX', 60_000)
  await redis.hset('bull:provisioning:meta', 'opts.maxLenEvents', '10000')
  await redis.rpush('bull:provisioning:wait', 'job-1')

  const settings = { topology: { kind: 'standalone' as const, url: server.url }, tls: false, minReplicaAcks: 0, replicaAckTimeoutMs: 1000 }
  const opened = await openRedis(settings, { report: () => {}, recovered: () => {} }, { anchorKey: provisioningKeys.pending() })
  t.teardown(() => opened.close())
  await t.rejects(opened.check(), /keys of an earlier version are present \(prov:pending, wh:outbox, bull:provisioning:meta\): stop every replica and run npm run redis:rename-keys/, 'not ready until renamed')

  const client = createRedisClient(settings)
  await client.connect()
  t.teardown(() => client.disconnect())
  const result = await renameLegacyKeys(client as Redis)
  t.equal(result.renamed, 6, 'records, indexes, deliveries, the outbox and BullMQ keys')
  t.same(result.kept, [])
  t.same(await legacyKeysPresent(redis), [])
  t.match(await opened.check(), /^single node/, 'ready once renamed')
  t.same(await createRedisRequestStore(client).get('r-old'), record, 'the store reads the record under its new name')
  t.ok(await redis.ttl(webhookKeys.delivery('d1')) > 3500, 'a lifetime survives the rename')
  t.equal(await redis.zscore(webhookKeys.outbox(), 'd1'), '1')
  t.same(await redis.lrange('{bull}:provisioning:wait', 0, -1), ['job-1'], 'BullMQ keys move to the {bull} prefix')
  t.equal(await redis.get('prov:email:abc'), 'r-old', 'keys used alone keep their names')
  t.equal(await redis.get('grp:queue-lock:q1'), 'holder')

  await redis.set('prov:req:r-both', '{"old":true}')
  await redis.set(provisioningKeys.request('r-both'), '{"new":true}')
  t.same((await renameLegacyKeys(client as Redis)).kept, ['prov:req:r-both'], 'a key already under its new name is never overwritten')
})
