import { Redis } from 'ioredis'
import fc from 'fast-check'
import t, { type Test } from 'tap'
import { RateBudgetExceeded, type RateBudget } from '../../src/genesys/ports.js'
import { createMemoryRateBudget, gcraFor, type RateBudgetEvent } from '../../src/genesys/budget/memory.js'
import { genesysKeys } from '../../src/genesys/keys.js'
import { createRedisRateBudget } from '../../src/genesys/budget/redis.js'
import { createRedisClient } from '../../src/redis/connection.js'
import { startRedis, type TestRedis } from '../helpers/redis.js'
import { startRedisCluster } from '../helpers/redis-topologies.js'

function redisConn (url: string): Redis {
  const r = new Redis(url, { enableOfflineQueue: false, commandTimeout: 400, maxRetriesPerRequest: 1, retryStrategy: () => 200 })
  r.on('error', () => {})
  return r
}
async function ready (r: Redis): Promise<void> {
  if (r.status !== 'ready') await new Promise<void>((resolve) => r.once('ready', () => resolve()))
}

const granted = (p: Promise<void>) => p.then(() => true, (err: unknown) => {
  if (err instanceof RateBudgetExceeded) return false
  throw err
})

/** Most grants in any half-open window [g, g + 60 s). */
function busiestMinute (grants: number[]): number {
  const sorted = [...grants].sort((a, b) => a - b)
  let most = 0
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while ((sorted[i] ?? 0) - (sorted[j] ?? 0) >= 60_000) j++
    most = Math.max(most, i - j + 1)
  }
  return most
}

/** A fake clock with timers that fire in order as the test advances it. */
function virtualTime () {
  let now = 0
  let seq = 0
  const timers: Array<{ at: number, seq: number, wake: () => void }> = []
  // Microtasks (promise continuations) all run before the next macrotask.
  const settle = () => new Promise<void>((resolve) => setImmediate(resolve))
  return {
    clock: () => now,
    sleep: (ms: number) => new Promise<void>((resolve) => { timers.push({ at: now + ms, seq: seq++, wake: resolve }) }),
    async advanceTo (until: number) {
      for (;;) {
        await settle()
        timers.sort((a, b) => a.at - b.at || a.seq - b.seq)
        const next = timers[0]
        if (next === undefined || next.at > until) break
        timers.shift()
        now = Math.max(now, next.at)
        next.wake()
      }
      now = Math.max(now, until)
      await settle()
    },
  }
}

t.test('GCRA parameters: B + 60 s / T − 1 ≤ perMinute, defaults as documented', async (t) => {
  for (const perMinute of [1, 2, 29, 30, 60, 120, 300, 600, 3000]) {
    for (const burst of [undefined, 1, 5, perMinute]) {
      const g = gcraFor(perMinute, burst)
      const ok = g.burst >= 1 && g.burst <= perMinute && g.tauMs === (g.burst - 1) * g.intervalMs &&
        g.burst + 60_000 / g.intervalMs - 1 <= perMinute + 1e-9
      t.ok(ok, `${perMinute}/min, burst ${g.burst}: ${(60_000 / g.intervalMs).toFixed(1)}/min sustained`)
    }
  }
  t.equal(gcraFor(300).burst, 10, '300/min: burst of max(1, floor(300/30))')
  t.equal(gcraFor(300).intervalMs, 60_000 / 288, '288/min sustained: burst 10 and 3 slots of slack below the limit')
  t.equal(gcraFor(20).burst, 1, 'small limits still allow one at a time')
})

t.test('property (memory twin, fake clock): no 60 s window holds more than perMinute grants', async (t) => {
  const step = fc.oneof(
    { weight: 8, arbitrary: fc.record({ gap: fc.integer({ min: 0, max: 4000 }), maxWaitMs: fc.constantFrom(0, 50, 1000, 30_000, 120_000) }) },
    { weight: 1, arbitrary: fc.record({ gap: fc.integer({ min: 0, max: 4000 }), pauseMs: fc.integer({ min: 1, max: 20_000 }) }) },
  )
  let runs = 0
  await fc.assert(fc.asyncProperty(
    fc.integer({ min: 1, max: 300 }),
    fc.option(fc.integer({ min: 1, max: 60 }), { nil: undefined }),
    fc.array(step, { minLength: 1, maxLength: 400, size: 'large' }),
    async (perMinute, burst, steps) => {
      runs++
      const vt = virtualTime()
      const b = createMemoryRateBudget({ perMinute, burst, clock: vt.clock, sleep: vt.sleep })
      const grants: number[] = []
      const pauses: Array<{ from: number, until: number }> = []
      let at = 0
      for (const s of steps) {
        at += s.gap
        await vt.advanceTo(at)
        if ('pauseMs' in s) {
          pauses.push({ from: vt.clock(), until: vt.clock() + s.pauseMs })
          await b.pause(s.pauseMs)
        } else {
          // Not awaited: callers overlap, queued by their reservations.
          void granted(b.acquire({ maxWaitMs: s.maxWaitMs }).then(() => { grants.push(vt.clock()) }))
        }
      }
      await vt.advanceTo(at + 10 * 60_000)
      if (busiestMinute(grants) > perMinute) return false
      // Retry-After is a floor: nothing goes out while a pause is in force.
      return grants.every((g) => !pauses.some((p) => g > p.from && g < p.until))
    },
  ), { numRuns: 150 })
  t.equal(runs >= 150, true, 'held for every random schedule')
})

interface MakeOpts { perMinute: number, burst?: number, clientId: string, onEvent?: (e: RateBudgetEvent) => void }
type Make = (t: Test, opts: MakeOpts) => Promise<RateBudget>

/** One contract, two twins. */
function contract (t: Test, name: string, make: Make): void {
  t.test(`${name}: the first B acquisitions go at once, then the sustained pace`, async (t) => {
    // 60/min with a burst of 5: T ≈ 1.07 s, so the 6th cannot be free yet.
    const b = await make(t, { perMinute: 60, burst: 5, clientId: `burst-${name}` })
    const results = []
    for (let i = 0; i < 6; i++) results.push(await granted(b.acquire({ maxWaitMs: 0 })))
    t.same(results, [true, true, true, true, true, false], 'exactly B without waiting')
  })

  t.test(`${name}: 20 acquisitions at 600/min take at least (20 − B)·T`, async (t) => {
    const events: RateBudgetEvent[] = []
    const b = await make(t, { perMinute: 600, burst: 5, clientId: `pace-${name}`, onEvent: (e) => events.push(e) })
    const { intervalMs, burst } = gcraFor(600, 5)
    const started = Date.now()
    // Concurrent callers: each reserves its own slot and sleeps until it.
    await Promise.all(Array.from({ length: 20 }, () => b.acquire()))
    const elapsed = Date.now() - started
    const floor = (20 - burst) * intervalMs * 0.9
    t.ok(elapsed >= floor, `took ${elapsed} ms (≥ ${floor.toFixed(0)})`)
    t.ok(events.includes('wait'))
  })

  t.test(`${name}: no slot within the bound ⇒ RateBudgetExceeded, nothing consumed`, async (t) => {
    const events: RateBudgetEvent[] = []
    const b = await make(t, { perMinute: 2, clientId: `bound-${name}`, onEvent: (e) => events.push(e) })
    await b.acquire({ maxWaitMs: 0 })
    const err = await b.acquire({ maxWaitMs: 0 }).catch((e: unknown) => e)
    t.type(err, RateBudgetExceeded)
    const first = (err as RateBudgetExceeded).retryAfterMs
    t.ok(first > 0 && first <= 60_000, `retryAfterMs ${first}`)
    const again = await b.acquire({ maxWaitMs: 1000 }).catch((e: unknown) => e)
    t.type(again, RateBudgetExceeded, 'a bound shorter than the next slot refuses too')
    const second = (again as RateBudgetExceeded).retryAfterMs
    t.ok(second <= first && second > first - 5000, `the refused attempts reserved nothing (${first} → ${second} ms)`)
    t.ok(events.includes('exceeded'))
  })

  t.test(`${name}: a pause is a floor and is never shortened`, async (t) => {
    const events: RateBudgetEvent[] = []
    const b = await make(t, { perMinute: 6000, clientId: `pause-${name}`, onEvent: (e) => events.push(e) })
    await b.acquire()
    const started = Date.now()
    await b.pause(1500)
    await b.pause(200)
    await b.acquire()
    const waited = Date.now() - started
    t.ok(waited >= 1450, `waited ${waited} ms for a 1500 ms pause`)
    t.ok(events.includes('paused'))
    await b.pause(5000)
    await b.pause(10)
    const err = await b.acquire({ maxWaitMs: 100 }).catch((e: unknown) => e)
    t.type(err, RateBudgetExceeded, 'a pause longer than the bound refuses')
    t.ok((err as RateBudgetExceeded).retryAfterMs > 4000, 'and says how long the pause has left')
  })
}

let server: TestRedis
t.before(async () => { server = await startRedis() })
t.teardown(() => server.stop())

contract(t, 'memory', async (t, o) => {
  const b = createMemoryRateBudget(o)
  t.teardown(() => b.close())
  return b
})
contract(t, 'redis', async (t, o) => {
  const redis = redisConn(server.url)
  await ready(redis)
  const b = createRedisRateBudget({ redis, ...o })
  t.teardown(async () => { await b.close(); await redis.quit() })
  return b
})

// The same contract on a three-master cluster: the budget script's two keys share one client's slot.
t.test('redis cluster twin', async (t) => {
  const cluster = await startRedisCluster()
  t.teardown(() => cluster.stop())
  contract(t, 'redis cluster', async (t, o) => {
    const redis = createRedisClient(cluster.settings)
    redis.on('error', () => {})
    await redis.connect()
    const b = createRedisRateBudget({ redis, ...o })
    t.teardown(async () => { await b.close(); redis.disconnect() })
    return b
  })
})

t.test('redis: two replicas share one budget and one pause', async (t) => {
  const [r1, r2] = [redisConn(server.url), redisConn(server.url)]
  await Promise.all([ready(r1), ready(r2)])
  t.teardown(() => Promise.all([r1.quit(), r2.quit()]))
  const a = createRedisRateBudget({ redis: r1, clientId: 'shared', perMinute: 60, burst: 4 })
  const b = createRedisRateBudget({ redis: r2, clientId: 'shared', perMinute: 60, burst: 4 })
  const other = createRedisRateBudget({ redis: r2, clientId: 'someone-else', perMinute: 60, burst: 4 })
  // 20 concurrent attempts across both replicas, none willing to wait: only the shared burst goes.
  const results = await Promise.all(Array.from({ length: 20 }, (_, i) => granted((i % 2 === 0 ? a : b).acquire({ maxWaitMs: 0 }))))
  t.equal(results.filter(Boolean).length, 4, 'the burst is shared, whichever replica asks')
  t.ok(await granted(other.acquire({ maxWaitMs: 0 })), 'another OAuth client has its own budget')
  await a.pause(60_000)
  const err = await b.acquire({ maxWaitMs: 0 }).catch((e: unknown) => e)
  t.type(err, RateBudgetExceeded, 'a pause set by one replica holds the other')
  t.ok((err as RateBudgetExceeded).retryAfterMs > 55_000)
  await b.pause(1000)
  const pttl = await r1.pttl(genesysKeys.budgetPause('shared'))
  t.ok(pttl > 55_000, 'a shorter pause from the other replica does not shorten it')
  const tatTtl = await r1.pttl(genesysKeys.budgetTat('shared'))
  t.ok(tatTtl > 0 && tatTtl <= 60_000 + 5 * gcraFor(60, 4).intervalMs, `the GCRA key expires when idle (PX ${tatTtl})`)
})

t.test('redis: concurrent waiters across replicas are spaced by the shared schedule', async (t) => {
  const [r1, r2] = [redisConn(server.url), redisConn(server.url)]
  await Promise.all([ready(r1), ready(r2)])
  t.teardown(() => Promise.all([r1.quit(), r2.quit()]))
  const opts = { clientId: 'spaced', perMinute: 600, burst: 2 }
  const a = createRedisRateBudget({ redis: r1, ...opts })
  const b = createRedisRateBudget({ redis: r2, ...opts })
  const { intervalMs } = gcraFor(600, 2)
  const started = Date.now()
  await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? a : b).acquire()))
  const elapsed = Date.now() - started
  t.ok(elapsed >= 10 * intervalMs * 0.9, `12 grants across two replicas took ${elapsed} ms (≥ ${(10 * intervalMs * 0.9).toFixed(0)})`)
})

for (const [name, breakIt, fixIt] of [
  ['stopped', (r: TestRedis) => r.kill(), (r: TestRedis) => r.restart()],
  ['hung (SIGSTOP)', async (r: TestRedis) => { r.pause() }, async (r: TestRedis) => { r.resume() }],
] as const) {
  t.test(`redis ${name}: falls back to a per-process budget in bounded time, still limiting`, async (t) => {
    const own = await startRedis()
    t.teardown(() => own.stop())
    const redis = redisConn(own.url)
    await ready(redis)
    t.teardown(() => redis.disconnect())
    const warnings: string[] = []
    const b = createRedisRateBudget({ redis, clientId: 'down', perMinute: 60, burst: 3, logger: { warn: (_o, msg) => warnings.push(msg) } })
    await breakIt(own)
    t.teardown(() => fixIt(own))
    const started = Date.now()
    await b.acquire()
    const elapsed = Date.now() - started
    t.ok(elapsed < 3000, `acquired in ${elapsed} ms with Redis ${name}`)
    let count = 1
    for (let i = 0; i < 6; i++) if (await granted(b.acquire({ maxWaitMs: 0 }))) count++
    t.equal(count, 3, 'the fallback still limits to the burst')
    await b.pause(60_000)
    const err = await b.acquire({ maxWaitMs: 0 }).catch((e: unknown) => e)
    t.type(err, RateBudgetExceeded, 'pauses still hold while Redis is away')
    t.equal(warnings.length, 1, 'logged once per outage')
  })
}
