import t, { type Test } from 'tap'
import { checkRedis, createDurability, createRedisClient, reopenWhenEnded, type RedisClient } from '../../src/redis/connection.js'
import { RECORDS_TAG } from '../../src/redis/hash-tag.js'
import { provisioningKeys } from '../../src/provisioning/store/keys.js'
import { createRedisIdempotencyStore, createRedisRequestStore } from '../../src/provisioning/store/redis.js'
import { createRedisDeliveryStore } from '../../src/webhooks/store/redis.js'
import { failoverRun } from '../helpers/failover.js'
import { delivery, requestRecord } from '../helpers/records.js'
import { startRedis } from '../helpers/redis.js'
import { startRedisCluster, startRedisSentinel } from '../helpers/redis-topologies.js'

/**
 * The service on a highly available Redis: readiness names the topology and
 * fails while no master answers, one connection follows a Sentinel failover
 * without a restart, acknowledged writes wait for a replica, and a failover
 * under load loses no accepted request.
 */
t.setTimeout(300_000)

async function connected (t: Test, client: RedisClient): Promise<RedisClient> {
  client.on('error', () => {})
  t.teardown(() => client.disconnect())
  await client.connect()
  return client
}

async function eventually<T> (probe: () => Promise<T>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      return await probe()
    } catch (err) {
      if (Date.now() > deadline) throw err
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
}

t.test('readiness names the topology: single node, sentinel with its master, cluster with its nodes', async (t) => {
  const one = await startRedis({ appendonly: true })
  t.teardown(() => one.stop())
  const settings = { topology: { kind: 'standalone' as const, url: one.url }, tls: false, minReplicaAcks: 1, replicaAckTimeoutMs: 1000 }
  t.match(await checkRedis(await connected(t, createRedisClient(settings)), settings), /^single node 127\.0\.0\.1:\d+, role master, 0 replicas, noeviction, appendonly yes$/)

  const cluster = await startRedisCluster()
  t.teardown(() => cluster.stop())
  const c = await connected(t, createRedisClient(cluster.settings))
  t.match(await eventually(() => checkRedis(c, cluster.settings)), /^cluster, 3 masters, 3 nodes, state ok, noeviction, appendonly yes$/)
})

t.test('sentinel: readiness fails while no master answers and the same connection follows the failover, no restart', async (t) => {
  const sentinel = await startRedisSentinel()
  t.teardown(() => sentinel.stop())
  // Opened again if ioredis gives it up during the failover, as openRedis does for the service's.
  let closing = false
  t.teardown(() => { closing = true })
  const client = createRedisClient(sentinel.settings)
  reopenWhenEnded(client, () => closing)
  await connected(t, client)
  const first = await sentinel.masterPort()
  t.match(await checkRedis(client, sentinel.settings), new RegExp(`^sentinel "prov", master 127\\.0\\.0\\.1:${first}, 1 replica, noeviction, appendonly yes$`))
  await client.set(`${RECORDS_TAG}probe`, 'before')

  const old = await sentinel.killMaster()
  await t.rejects(checkRedis(client, sentinel.settings), 'not ready while the master is gone')
  const promoted = await sentinel.waitForNewMaster(old)
  t.not(promoted, old)
  const detail = await eventually(() => checkRedis(client, sentinel.settings))
  t.match(detail, new RegExp(`master 127\\.0\\.0\\.1:${promoted}, 0 replicas`), 'the new master, reached by the same connection')
  t.equal(await client.get(`${RECORDS_TAG}probe`), 'before', 'a write confirmed on the replica survived the failover')
})

t.test('acknowledged writes wait for a replica: a silent replica means 503, none at all means no wait', async (t) => {
  const sentinel = await startRedisSentinel()
  t.teardown(async () => { sentinel.resumeReplica(); await sentinel.stop() })
  const client = await connected(t, createRedisClient(sentinel.settings))
  const durability = createDurability(client, { anchorKey: provisioningKeys.pending(), minAcks: 1, timeoutMs: 300, refreshMs: 0 })
  await client.set(provisioningKeys.request('r1'), '{}')
  await durability.confirm()
  t.pass('a write the replica confirmed')

  await sentinel.pauseReplica()
  await client.set(provisioningKeys.request('r2'), '{}')
  await t.rejects(durability.confirm(), { name: 'RedisUnavailable', message: /0 of 1 replica\(s\) confirmed the write within 300 ms/ }, 'the caller is told to retry rather than trust the write')
  const requests = createRedisRequestStore(client, { durability })
  const idempotency = createRedisIdempotencyStore(client, durability)
  const deliveries = createRedisDeliveryStore(client, durability)
  await t.rejects(requests.insert(requestRecord({ id: 'r3' })), { name: 'RedisUnavailable' }, 'an accepted request is not acknowledged unconfirmed')
  await t.rejects(idempotency.complete('hris', 'key-1', 'fp', { status: 202, headers: {}, body: {} }, 60), { name: 'RedisUnavailable' }, 'nor an Idempotency-Key outcome')
  await t.rejects(deliveries.insert(delivery()), { name: 'RedisUnavailable' }, 'nor a webhook outbox entry')
  sentinel.resumeReplica()
  await eventually(() => durability.confirm())
  t.pass('confirmed again once the replica answers')

  const alone = await startRedis()
  t.teardown(() => alone.stop())
  const single = await connected(t, createRedisClient({ topology: { kind: 'standalone', url: alone.url }, tls: false, minReplicaAcks: 1, replicaAckTimeoutMs: 5000 }))
  let unreplicated = 0
  const noReplica = createDurability(single, { anchorKey: provisioningKeys.pending(), minAcks: 1, timeoutMs: 5000, onUnreplicated: () => { unreplicated++ } })
  const began = Date.now()
  await noReplica.confirm()
  t.ok(Date.now() - began < 4000, 'a master without replicas is not waited on')
  t.equal(unreplicated, 1, 'and says so')
})

t.test('failover under load: the Sentinel master SIGKILLed mid-run ⇒ every 202 terminal, one user per hire, one webhook id per request', async (t) => {
  const f = await failoverRun({ hires: 40, killAfter: 15, log: (line) => t.comment(line) })
  t.comment(JSON.stringify(f))
  t.equal(f.accepted, 40, 'every hire was eventually answered 202')
  t.equal(f.notTerminal, 0, 'every accepted request reached a terminal state')
  t.equal(f.completed, 40)
  t.equal(f.oneUser, 40, 'exactly one Genesys user per hire')
  t.equal(f.duplicated, 0)
  t.equal(f.webhooked, 40, 'a webhook for every request')
  t.equal(f.webhookIdsPerRequestOver1, 0, 'each under one webhook id')
  t.ok(f.promotionMs > 0)
})
