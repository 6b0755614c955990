import { setTimeout as sleep } from 'node:timers/promises'
import t, { type Test } from 'tap'
import { isProvisioningError } from '../../src/errors.js'
import type { QueueLock } from '../../src/groups/ports.js'
import { createMemoryQueueLock } from '../../src/groups/lock/memory.js'
import { createRedisQueueLock } from '../../src/groups/lock/redis.js'
import { groupKeys } from '../../src/groups/store/keys.js'
import { redisTwin } from '../helpers/redis.js'

/** Two replicas' locks over one backend, built with the given wait bound. */
interface Twin {
  replicas (opts?: { waitMs?: number }): [QueueLock, QueueLock]
  close (): void
}

function deferred (): { promise: Promise<void>, resolve: () => void } {
  let resolve = () => {}
  const promise = new Promise<void>((r) => { resolve = r })
  return { promise, resolve }
}

function contract (t: Test, name: string, make: () => Promise<Twin>): void {
  t.test(`${name}: writers of one queue never overlap, across replicas`, async (t) => {
    const twin = await make()
    t.teardown(() => twin.close())
    const [a, b] = twin.replicas()
    let inside = 0
    let most = 0
    const order: number[] = []
    await Promise.all([0, 1, 2, 3, 4, 5].map((i) => (i % 2 === 0 ? a : b).withLock('q-1', async () => {
      inside++
      most = Math.max(most, inside)
      // Widens the window in which an unserialised writer would overlap.
      await sleep(5)
      order.push(i)
      inside--
    })))
    t.equal(most, 1, 'one holder at a time')
    t.equal(order.length, 6, 'every writer ran')
  })

  t.test(`${name}: different queues do not wait for each other`, async (t) => {
    const twin = await make()
    t.teardown(() => twin.close())
    const [a, b] = twin.replicas({ waitMs: 2000 })
    const bInside = deferred()
    const bDone = b.withLock('q-2', async () => { bInside.resolve() })
    // A holds q-1 until B got into q-2: a shared lock would make B wait out its bound and fail.
    await a.withLock('q-1', () => Promise.race([bInside.promise, bDone.then(() => {}, () => {})]))
    await t.resolves(bDone)
  })

  t.test(`${name}: released when the holder throws; the error is the holder's`, async (t) => {
    const twin = await make()
    t.teardown(() => twin.close())
    const [a, b] = twin.replicas({ waitMs: 2000 })
    await t.rejects(a.withLock('q-3', async () => { throw new Error('upstream failed') }), { message: 'upstream failed' })
    t.equal(await b.withLock('q-3', async () => 'next'), 'next', 'the next writer gets the lock')
  })

  t.test(`${name}: a busy lock is waited for up to the bound, then a retryable 503 without running`, async (t) => {
    const twin = await make()
    t.teardown(() => twin.close())
    const [a, b] = twin.replicas({ waitMs: 50 })
    const release = deferred()
    const holding = a.withLock('q-4', () => release.promise)
    let ran = false
    const err = await b.withLock('q-4', async () => { ran = true }).catch((e: unknown) => e)
    release.resolve()
    await holding
    t.ok(isProvisioningError(err) && err.code === 'PROV_ERR_UNAVAILABLE' && err.retryable && err.status === 503, 'PROV_ERR_UNAVAILABLE, retryable')
    t.notOk(ran, 'the waiter did not run')
    t.equal(await b.withLock('q-4', async () => 'free'), 'free', 'usable again once released')
  })
}

contract(t, 'memory', async () => ({
  replicas: (opts) => {
    const lock = createMemoryQueueLock(opts)
    return [lock, lock]
  },
  close: () => {},
}))

redisTwin(t, contract, (redis) => {
  const second = redis.duplicate()
  return {
    replicas: (opts) => [createRedisQueueLock(redis, opts), createRedisQueueLock(second, opts)],
    close: () => second.disconnect(),
  }
}, (t, connect) => {
  t.test('redis: a holder that died blocks nobody past the lock TTL', async (t) => {
    const redis = await connect()
    await redis.set(groupKeys.queueLock('q-dead'), 'dead-holder', 'PX', 100)
    const lock = createRedisQueueLock(redis, { waitMs: 5000 })
    t.equal(await lock.withLock('q-dead', async () => 'taken over'), 'taken over')
    t.equal(await redis.get(groupKeys.queueLock('q-dead')), null, 'released after use')
  })
  t.test('redis: a holder whose lock expired does not free the next holder\'s lock', async (t) => {
    const redis = await connect()
    const lock = createRedisQueueLock(redis, { ttlMs: 50, waitMs: 5000 })
    await lock.withLock('q-exp', async () => {
      await sleep(120) // our lock expires meanwhile and somebody else takes it
      await redis.set(groupKeys.queueLock('q-exp'), 'someone-else', 'PX', 10_000)
    })
    t.equal(await redis.get(groupKeys.queueLock('q-exp')), 'someone-else', 'compare-and-delete left it alone')
  })
})
