import { Redis } from 'ioredis'
import t from 'tap'
import { bounded, RedisUnavailable } from '../../src/redis/bounded.js'
import { redisBinary, startRedis } from '../helpers/redis.js'

/** Blocks the event loop, as a startup compiling routes or a long synchronous task does. */
function busy (ms: number): void {
  const until = Date.now() + ms
  while (Date.now() < until) { /* the loop is stuck here */ }
}

t.test('an answer that arrived while the event loop was busy beats the bound', { skip: redisBinary.skip }, async (t) => {
  const server = await startRedis()
  t.teardown(() => server.stop())
  const redis = new Redis(server.url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: true })
  await redis.connect()
  t.teardown(() => redis.disconnect())
  await redis.set('k', 'v')
  const result = bounded(redis.get('k'), 50)
  // Redis answers at once; this process reads it only after the stall.
  busy(300)
  t.equal(await result, 'v', 'the reply counts: Redis answered, the process was busy')
})

t.test('no answer at all is still Redis unavailable, after the bound', async (t) => {
  const started = Date.now()
  const err = await bounded(new Promise<never>(() => {}), 50).catch((e: unknown) => e)
  t.ok(err instanceof RedisUnavailable)
  t.ok(Date.now() - started >= 45, 'not before the bound')
})

t.test('a refusal is Redis unavailable, with its cause', async (t) => {
  const cause = new Error('Connection is closed.')
  const err = await bounded(Promise.reject(cause), 50).catch((e: unknown) => e)
  t.ok(err instanceof RedisUnavailable)
  t.equal((err as RedisUnavailable).cause, cause)
})
