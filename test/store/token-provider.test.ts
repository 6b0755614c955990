import { setTimeout as sleep } from 'node:timers/promises'
import { Redis } from 'ioredis'
import t, { type Test } from 'tap'
import type { FetchedToken, TokenEvent, TokenProvider } from '../../src/genesys/ports.js'
import { createMemoryTokenProvider } from '../../src/genesys/token-provider.js'
import { genesysKeys } from '../../src/store/genesys-keys.js'
import { createRedisTokenProvider } from '../../src/store/redis-token-provider.js'
import { startRedis, type TestRedis } from '../helpers/redis.js'

/** A token endpoint stand-in: counts fetches, takes `latencyMs`, can fail on demand. */
function endpoint (opts: { latencyMs?: number, expiresInSeconds?: number } = {}) {
  let n = 0
  let failNext = false
  return {
    get fetches () { return n },
    failOnce () { failNext = true },
    async fetch (): Promise<FetchedToken> {
      n++
      await sleep(opts.latencyMs ?? 20)
      if (failNext) {
        failNext = false
        throw new Error('token endpoint down')
      }
      return { accessToken: `tok-canary-${n}-${Math.random().toString(36).slice(2)}`, expiresInSeconds: opts.expiresInSeconds ?? 3600 }
    },
  }
}

function redisConn (url: string): Redis {
  const r = new Redis(url, { enableOfflineQueue: false, commandTimeout: 400, maxRetriesPerRequest: 1, retryStrategy: () => 200 })
  r.on('error', () => {})
  return r
}

async function ready (r: Redis): Promise<void> {
  if (r.status !== 'ready') await new Promise<void>((resolve) => r.once('ready', () => resolve()))
}

type Make = (t: Test, opts: { fetch: () => Promise<FetchedToken>, clock?: () => number, refreshAhead?: { min: number, max: number }, onEvent?: (e: TokenEvent) => void }) => Promise<TokenProvider>

function contract (t: Test, name: string, make: Make): void {
  t.test(`${name}: caches, and 100 concurrent callers share one fetch`, async (t) => {
    const ep = endpoint({ latencyMs: 100 })
    const p = await make(t, { fetch: () => ep.fetch() })
    const tokens = await Promise.all(Array.from({ length: 100 }, () => p.getToken()))
    t.equal(new Set(tokens).size, 1)
    t.equal(ep.fetches, 1)
    t.equal(await p.getToken(), tokens[0], 'served from cache')
    t.equal(ep.fetches, 1)
  })

  t.test(`${name}: refreshes ahead of expiry while serving the current token`, async (t) => {
    const ep = endpoint({ expiresInSeconds: 3600 })
    let now = Date.now()
    const p = await make(t, { fetch: () => ep.fetch(), clock: () => now, refreshAhead: { min: 0.1, max: 0.1 } })
    const first = await p.getToken()
    now += 3600 * 1000 * 0.95 // past the refresh point (90 %), before expiry
    t.equal(await p.getToken(), first, 'the current token is still served')
    const deadline = Date.now() + 3000
    while (ep.fetches < 2 && Date.now() < deadline) await sleep(10)
    t.equal(ep.fetches, 2, 'one background refresh')
    await sleep(50)
    t.not(await p.getToken(), first, 'the refreshed token is served next')
  })

  t.test(`${name}: invalidate drops exactly that token`, async (t) => {
    const ep = endpoint()
    const p = await make(t, { fetch: () => ep.fetch() })
    const a = await p.getToken()
    await p.invalidate(a)
    const b = await p.getToken()
    t.not(b, a, 'a new token after invalidating the old one')
    await p.invalidate(a)
    t.equal(await p.getToken(), b, 'invalidating a stale token leaves the newer one')
    t.equal(ep.fetches, 2)
  })

  t.test(`${name}: a failed fetch reaches every waiter; the next call tries again`, async (t) => {
    const ep = endpoint({ latencyMs: 50 })
    const p = await make(t, { fetch: () => ep.fetch() })
    ep.failOnce()
    const results = await Promise.allSettled([p.getToken(), p.getToken(), p.getToken()])
    t.same(results.map((r) => r.status), ['rejected', 'rejected', 'rejected'])
    t.equal(ep.fetches, 1)
    t.ok(await p.getToken())
    t.equal(ep.fetches, 2)
  })
}

let server: TestRedis
t.before(async () => { server = await startRedis() })
t.teardown(() => server.stop())

contract(t, 'memory', async (_t, o) => createMemoryTokenProvider({ fetchToken: o.fetch, clock: o.clock, refreshAhead: o.refreshAhead, onEvent: o.onEvent }))

let clientSeq = 0
contract(t, 'redis', async (t, o) => {
  const redis = redisConn(server.url)
  await ready(redis)
  t.teardown(() => redis.quit())
  return createRedisTokenProvider({ redis, clientId: `contract-${++clientSeq}`, fetchToken: o.fetch, clock: o.clock, refreshAhead: o.refreshAhead, onEvent: o.onEvent })
})

t.test('redis: 3 replicas × 50 callers, empty cache, slow endpoint ⇒ one fetch', async (t) => {
  const ep = endpoint({ latencyMs: 300 })
  const conns = [1, 2, 3].map(() => redisConn(server.url))
  await Promise.all(conns.map(ready))
  t.teardown(() => Promise.all(conns.map((c) => c.quit())))
  const providers = conns.map((redis) => createRedisTokenProvider({ redis, clientId: 'fleet', fetchToken: () => ep.fetch() }))
  const tokens = await Promise.all(providers.flatMap((p) => Array.from({ length: 50 }, () => p.getToken())))
  t.equal(new Set(tokens).size, 1)
  t.equal(ep.fetches, 1)
})

t.test('redis: a lock left by a dead holder delays, never blocks', async (t) => {
  const ep = endpoint()
  const redis = redisConn(server.url)
  await ready(redis)
  t.teardown(() => redis.quit())
  await redis.set(genesysKeys.tokenLock('orphan'), 'someone-dead', 'PX', 60_000)
  const events: TokenEvent[] = []
  const p = createRedisTokenProvider({ redis, clientId: 'orphan', fetchToken: () => ep.fetch(), waitForOtherMs: 300, onEvent: (e) => events.push(e) })
  const started = Date.now()
  t.ok(await p.getToken())
  t.ok(Date.now() - started >= 290, 'waited for the holder first')
  t.equal(ep.fetches, 1)
  t.ok(events.includes('wait'))
})

t.test('redis: invalidate in one replica, the other picks up the new token after its own 401', async (t) => {
  const ep = endpoint()
  const [r1, r2] = [redisConn(server.url), redisConn(server.url)]
  await Promise.all([ready(r1), ready(r2)])
  t.teardown(() => Promise.all([r1.quit(), r2.quit()]))
  const p1 = createRedisTokenProvider({ redis: r1, clientId: 'revoked', fetchToken: () => ep.fetch() })
  const p2 = createRedisTokenProvider({ redis: r2, clientId: 'revoked', fetchToken: () => ep.fetch() })
  const old = await p1.getToken()
  t.equal(await p2.getToken(), old)
  await p1.invalidate(old)
  const fresh = await p1.getToken()
  t.not(fresh, old)
  await p2.invalidate(old)
  t.equal(await p2.getToken(), fresh, 'adopted from Redis, not fetched again')
  t.equal(ep.fetches, 2)
})

for (const [name, breakIt, fixIt] of [
  ['stopped', (r: TestRedis) => r.kill(), (r: TestRedis) => r.restart()],
  ['hung (SIGSTOP)', async (r: TestRedis) => { r.pause() }, async (r: TestRedis) => { r.resume() }],
] as const) {
  t.test(`redis ${name}: getToken falls back in bounded time and never logs the token`, async (t) => {
    const own = await startRedis()
    t.teardown(() => own.stop())
    const redis = redisConn(own.url)
    await ready(redis)
    t.teardown(() => redis.disconnect())
    const ep = endpoint({ latencyMs: 100 })
    const logged: string[] = []
    const events: TokenEvent[] = []
    const p = createRedisTokenProvider({
      redis,
      clientId: `down-${name}`,
      fetchToken: () => ep.fetch(),
      onEvent: (e) => events.push(e),
      logger: { warn: (obj, msg) => logged.push(JSON.stringify(obj) + msg) },
    })
    await breakIt(own)
    t.teardown(() => fixIt(own))
    const started = Date.now()
    const token = await p.getToken()
    const elapsed = Date.now() - started
    t.ok(token)
    t.ok(elapsed < 3000, `obtained in ${elapsed} ms (fetch 100 ms + bounded Redis calls)`)
    t.ok(events.includes('fallback'))
    t.ok(logged.length > 0, 'the fallback is logged')
    t.notOk(logged.join('\n').includes(token), 'the token is not in the log')
    const again = Date.now()
    t.equal(await p.getToken(), token, 'the fallback token is cached in-process')
    t.ok(Date.now() - again < 100)
  })
}
