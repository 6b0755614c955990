import { once } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import { Redis } from 'ioredis'
import t from 'tap'
import { reopenWhenEnded } from '../../src/redis/connection.js'
import { redisBinary, startRedis } from '../helpers/redis.js'

/**
 * A connection ioredis gives up on (status `end`, "Connection is closed.") is
 * opened again unless this process closed it. Here the giving up is forced by
 * a retry strategy that never retries; after a Sentinel failover ioredis can
 * reach the same state on its own (src/redis/connection.ts).
 */
t.test('a connection ioredis ended on its own is opened again; one this process closed is not', { skip: redisBinary.skip }, async (t) => {
  const server = await startRedis()
  t.teardown(() => server.stop())
  const admin = new Redis(server.url)
  t.teardown(() => admin.disconnect())
  const open = (name: string) => {
    const r = new Redis(server.url, { connectionName: name, lazyConnect: true, enableOfflineQueue: false, retryStrategy: () => null })
    r.on('error', () => {})
    t.teardown(() => r.disconnect())
    return r
  }
  const watched = open('watched')
  let closing = false
  reopenWhenEnded(watched, () => closing, 50)
  const unwatched = open('unwatched')
  await Promise.all([watched.connect(), unwatched.connect()])

  const ended = Promise.all([once(watched, 'end'), once(unwatched, 'end')])
  await admin.client('KILL', 'TYPE', 'normal', 'SKIPME', 'yes')
  await ended
  const deadline = Date.now() + 5000
  while (watched.status !== 'ready' && Date.now() < deadline) await sleep(20)
  t.equal(watched.status, 'ready', 'opened again')
  t.equal(await watched.ping(), 'PONG')
  t.equal(unwatched.status, 'end', 'without it, ioredis stays ended')

  closing = true
  await watched.quit()
  await sleep(200)
  t.equal(watched.status, 'end', 'a connection this process closed stays closed')
})
