import { Redis } from 'ioredis'
import fc from 'fast-check'
import t, { type Test } from 'tap'
import { RateBudgetExceeded, type RateBudget } from '../../src/genesys/ports.js'
import { createMemoryRateBudget, gcraFor } from '../../src/genesys/rate-budget.js'
import { createRedisRateBudget } from '../../src/store/redis-rate-budget.js'
import { startRedis, type TestRedis } from '../helpers/redis.js'

function redisConn (url: string): Redis {
  const r = new Redis(url, { enableOfflineQueue: false, commandTimeout: 400, maxRetriesPerRequest: 1, retryStrategy: () => 200 })
  r.on('error', () => {})
  return r
}
async function ready (r: Redis): Promise<void> {
  if (r.status !== 'ready') await new Promise<void>((resolve) => r.once('ready', () => resolve()))
}

t.test('GCRA parameters never allow more than the limit in a 60 s window', async (t) => {
  for (const perMinute of [1, 2, 30, 60, 120, 300, 3000]) {
    const { intervalMs, tauMs } = gcraFor(perMinute)
    const burst = Math.round(tauMs / intervalMs) + 1
    t.ok(burst + 60_000 / intervalMs - 1 <= perMinute, `${perMinute}/min: burst ${burst}, ${(60_000 / intervalMs).toFixed(1)}/min sustained`)
  }
  t.equal(Math.round(tauMs300() / gcraFor(300).intervalMs) + 1, 10, '300/min allows a burst of 10')
  function tauMs300 () { return gcraFor(300).tauMs }
})

t.test('property: no 60 s window ever holds more grants than perMinute (fake clock)', async (t) => {
  await fc.assert(fc.asyncProperty(
    fc.integer({ min: 2, max: 400 }),
    fc.array(fc.integer({ min: 0, max: 5000 }), { minLength: 1, maxLength: 300 }),
    async (perMinute, gaps) => {
      let now = 0
      const { intervalMs, tauMs } = gcraFor(perMinute)
      // Drive the same arithmetic as the twins: a grant goes out at max(now, tat - tau).
      let tat = 0
      const grants: number[] = []
      for (const gap of gaps) {
        now += gap
        const at = Math.max(tat, now)
        const sendAt = Math.max(now, at - tauMs)
        tat = at + intervalMs
        grants.push(sendAt)
      }
      grants.sort((a, b) => a - b)
      for (let i = 0, j = 0; i < grants.length; i++) {
        while ((grants[i] ?? 0) - (grants[j] ?? 0) >= 60_000) j++
        if (i - j + 1 > perMinute) return false
      }
      return true
    },
  ), { numRuns: 200 })
  t.pass('held for 200 random schedules')
})

type Make = (t: Test, perMinute: number, clientId: string) => Promise<RateBudget>

function contract (t: Test, name: string, make: Make): void {
  t.test(`${name}: a burst, then the sustained pace`, async (t) => {
    const b = await make(t, 600, `pace-${name}`)
    const { intervalMs, tauMs } = gcraFor(600)
    const burst = Math.round(tauMs / intervalMs) + 1
    const started = Date.now()
    for (let i = 0; i < burst; i++) await b.acquire()
    t.ok(Date.now() - started < 200, `the first ${burst} go at once`)
    for (let i = burst; i < burst + 15; i++) await b.acquire()
    const elapsed = Date.now() - started
    t.ok(elapsed >= 15 * intervalMs * 0.9, `${burst + 15} acquisitions took ${elapsed} ms (≥ ${(15 * intervalMs * 0.9).toFixed(0)})`)
  })

  t.test(`${name}: no slot within the bound ⇒ RateBudgetExceeded, nothing consumed`, async (t) => {
    const b = await make(t, 2, `bound-${name}`)
    await b.acquire({ maxWaitMs: 0 })
    const err = await b.acquire({ maxWaitMs: 0 }).catch((e: unknown) => e)
    t.ok(err instanceof RateBudgetExceeded)
    t.ok((err as RateBudgetExceeded).retryAfterMs > 0)
    const again = await b.acquire({ maxWaitMs: 0 }).catch((e: unknown) => e)
    t.ok(again instanceof RateBudgetExceeded, 'the refused attempt reserved nothing')
    t.ok(Math.abs((again as RateBudgetExceeded).retryAfterMs - (err as RateBudgetExceeded).retryAfterMs) < 200)
  })

  t.test(`${name}: a pause is a floor and is never shortened`, async (t) => {
    const b = await make(t, 6000, `pause-${name}`)
    await b.acquire()
    await b.pause(1500)
    await b.pause(200)
    const started = Date.now()
    await b.acquire()
    t.ok(Date.now() - started >= 1450, `waited ${Date.now() - started} ms for a 1500 ms pause`)
    await b.pause(5000)
    const err = await b.acquire({ maxWaitMs: 100 }).catch((e: unknown) => e)
    t.ok(err instanceof RateBudgetExceeded, 'a pause longer than the bound refuses')
    t.ok((err as RateBudgetExceeded).retryAfterMs > 4000)
  })
}

let server: TestRedis
t.before(async () => { server = await startRedis() })
t.teardown(() => server.stop())

contract(t, 'memory', async (_t, perMinute) => createMemoryRateBudget({ perMinute }))
contract(t, 'redis', async (t, perMinute, clientId) => {
  const redis = redisConn(server.url)
  await ready(redis)
  t.teardown(() => redis.quit())
  return createRedisRateBudget({ redis, clientId, perMinute })
})

t.test('redis: two replicas share one budget and one pause', async (t) => {
  const [r1, r2] = [redisConn(server.url), redisConn(server.url)]
  await Promise.all([ready(r1), ready(r2)])
  t.teardown(() => Promise.all([r1.quit(), r2.quit()]))
  const a = createRedisRateBudget({ redis: r1, clientId: 'shared', perMinute: 60 })
  const b = createRedisRateBudget({ redis: r2, clientId: 'shared', perMinute: 60 })
  const { intervalMs, tauMs } = gcraFor(60)
  const burst = Math.round(tauMs / intervalMs) + 1
  let granted = 0
  for (let i = 0; i < 10; i++) {
    const which = i % 2 === 0 ? a : b
    if (await which.acquire({ maxWaitMs: 0 }).then(() => true, () => false)) granted++
  }
  t.equal(granted, burst, 'only the shared burst is granted at once, whichever replica asks')
  await a.pause(60_000)
  const err = await b.acquire({ maxWaitMs: 0 }).catch((e: unknown) => e)
  t.ok(err instanceof RateBudgetExceeded, 'a pause set by one replica holds the other')
  t.ok((err as RateBudgetExceeded).retryAfterMs > 55_000)
})

t.test('redis down or hung: falls back to a per-process budget in bounded time', async (t) => {
  const own = await startRedis()
  t.teardown(() => own.stop())
  const redis = redisConn(own.url)
  await ready(redis)
  t.teardown(() => redis.disconnect())
  const warnings: string[] = []
  const b = createRedisRateBudget({ redis, clientId: 'down', perMinute: 60, logger: { warn: (_o, msg) => warnings.push(msg) } })
  own.pause()
  t.teardown(() => own.resume())
  const started = Date.now()
  await b.acquire()
  t.ok(Date.now() - started < 2000, `acquired in ${Date.now() - started} ms while Redis hangs`)
  t.equal(warnings.length, 1, 'logged once')
  const { intervalMs, tauMs } = gcraFor(60)
  const burst = Math.round(tauMs / intervalMs) + 1
  let granted = 1
  for (let i = 0; i < 5; i++) if (await b.acquire({ maxWaitMs: 0 }).then(() => true, () => false)) granted++
  t.ok(granted <= burst, 'the fallback still limits')
})
