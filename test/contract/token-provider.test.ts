import { setTimeout as sleep } from 'node:timers/promises'
import { Redis } from 'ioredis'
import t, { type Test } from 'tap'
import type { FetchedToken, TokenEvent, TokenProvider } from '../../src/genesys/ports.js'
import { createMemoryTokenProvider } from '../../src/genesys/token/memory.js'
import { sealKeyFor, tokenDigest } from '../../src/genesys/token/seal.js'
import { genesysKeys } from '../../src/genesys/keys.js'

const KEY = sealKeyFor('test-client', 'test-secret')
import { createRedisTokenProvider, type StoreLogger } from '../../src/genesys/token/redis.js'
import { createRedisClient } from '../../src/redis/connection.js'
import { startRedis, type TestRedis } from '../helpers/redis.js'
import { startRedisCluster } from '../helpers/redis-topologies.js'

/** A token endpoint stand-in: counts fetches, takes `latencyMs`, can fail on demand. */
function endpoint (opts: { latencyMs?: number, expiresInSeconds?: number } = {}) {
  let n = 0
  let failNext = false
  const issued: string[] = []
  return {
    get fetches () { return n },
    issued,
    failOnce () { failNext = true },
    async fetch (): Promise<FetchedToken> {
      n++
      await sleep(opts.latencyMs ?? 20)
      if (failNext) {
        failNext = false
        throw new Error('token endpoint down')
      }
      const accessToken = `tok-canary-${n}-${Math.random().toString(36).slice(2)}`
      issued.push(accessToken)
      return { accessToken, expiresInSeconds: opts.expiresInSeconds ?? 3600 }
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

/** A pino-like logger that keeps every argument it is given, serialised. */
function captureLogger (): StoreLogger & { text (): string, count (): number } {
  const lines: string[] = []
  return {
    warn: (obj, msg) => { lines.push(JSON.stringify(['warn', obj, msg])) },
    debug: (obj, msg) => { lines.push(JSON.stringify(['debug', obj, msg])) },
    text: () => lines.join('\n'),
    count: () => lines.length,
  }
}

interface MakeOpts {
  fetch: () => Promise<FetchedToken>
  refreshAhead?: { min: number, max: number }
  onEvent?: (e: TokenEvent) => void
  clock?: () => number
}
type Make = (t: Test, opts: MakeOpts) => Promise<TokenProvider>

/**
 * The wall clock plus a skip: `skip(ms)` makes token lifetimes pass at once,
 * without sleeping (fetches, Redis and the lock wait stay on real time).
 */
function skippingClock () {
  let offset = 0
  return { now: () => Date.now() + offset, skip: (ms: number) => { offset += ms } }
}

async function until (cond: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms
  while (!cond() && Date.now() < deadline) await sleep(10)
}

/** One contract, two twins. */
function contract (t: Test, name: string, make: Make): void {
  t.test(`${name}: caches, and 100 concurrent callers share one fetch`, async (t) => {
    const ep = endpoint({ latencyMs: 100 })
    const events: TokenEvent[] = []
    const p = await make(t, { fetch: () => ep.fetch(), onEvent: (e) => events.push(e) })
    const tokens = await Promise.all(Array.from({ length: 100 }, () => p.getToken()))
    t.equal(new Set(tokens).size, 1)
    t.equal(ep.fetches, 1)
    t.equal(await p.getToken(), tokens[0], 'served from cache')
    t.equal(ep.fetches, 1)
    t.equal(events.filter((e) => e === 'fetch').length, 1)
    t.ok(events.includes('hit'))
  })

  t.test(`${name}: refreshes ahead of expiry (short-lived token) while serving the current one`, async (t) => {
    // 4 s token, refresh once 75 % is left (at 1 s); served at least until 3.6 s.
    const ep = endpoint({ expiresInSeconds: 4, latencyMs: 200 })
    const clock = skippingClock()
    const p = await make(t, { fetch: () => ep.fetch(), refreshAhead: { min: 0.75, max: 0.75 }, clock: clock.now })
    const first = await p.getToken()
    t.equal(await p.getToken(), first)
    t.equal(ep.fetches, 1, 'no refresh before the refresh point')
    clock.skip(1100)
    t.equal(await p.getToken(), first, 'past the refresh point the current token is still served')
    await until(() => ep.fetches >= 2, 2000)
    t.equal(ep.fetches, 2, 'one refresh, started ahead of expiry')
    await until(() => ep.issued.length >= 2, 2000)
    // The refreshed token is served once it is stored (for the Redis twins, a
    // write after the fetch returned): asked until then, bounded.
    let next = await p.getToken()
    for (const deadline = Date.now() + 2000; next === first && Date.now() < deadline; await sleep(10)) next = await p.getToken()
    t.not(next, first, 'the refreshed token is served next')
    t.equal(next, ep.issued[1])
  })

  t.test(`${name}: invalidate drops exactly that token`, async (t) => {
    const ep = endpoint()
    const events: TokenEvent[] = []
    const p = await make(t, { fetch: () => ep.fetch(), onEvent: (e) => events.push(e) })
    const a = await p.getToken()
    await p.invalidate(a)
    const b = await p.getToken()
    t.not(b, a, 'a new token after invalidating the old one')
    await p.invalidate(a)
    t.equal(await p.getToken(), b, 'invalidating a stale token leaves the newer one')
    t.equal(ep.fetches, 2)
    t.equal(events.filter((e) => e === 'invalidate').length, 1, 'only the real drop counts')
  })

  t.test(`${name}: a failed fetch reaches every waiter; the next call tries again`, async (t) => {
    const ep = endpoint({ latencyMs: 50 })
    const p = await make(t, { fetch: () => ep.fetch() })
    ep.failOnce()
    const results = await Promise.allSettled([p.getToken(), p.getToken(), p.getToken()])
    t.same(results.map((r) => r.status), ['rejected', 'rejected', 'rejected'])
    t.match((results[0] as PromiseRejectedResult).reason, { message: 'token endpoint down' })
    t.equal(ep.fetches, 1)
    t.ok(await p.getToken())
    t.equal(ep.fetches, 2)
  })

  t.test(`${name}: a failed background refresh keeps serving; the next caller retries`, async (t) => {
    const ep = endpoint({ expiresInSeconds: 4, latencyMs: 20 })
    const clock = skippingClock()
    const p = await make(t, { fetch: () => ep.fetch(), refreshAhead: { min: 0.75, max: 0.75 }, clock: clock.now })
    const first = await p.getToken()
    clock.skip(1100)
    ep.failOnce()
    t.equal(await p.getToken(), first)
    await until(() => ep.fetches >= 2, 2000)
    // The failed attempt frees the refresh a moment after its fetch threw (for
    // the Redis twin, once its lock is deleted); a caller from then on retries.
    const served = new Set<string>()
    for (const deadline = Date.now() + 2000; ep.fetches < 3 && Date.now() < deadline; await sleep(10)) served.add(await p.getToken())
    t.same([...served], [first], 'still served after the failed refresh')
    await until(() => ep.issued.length >= 2, 2000)
    t.equal(ep.fetches, 3, 'the next caller started another refresh')
  })
}

let server: TestRedis
t.before(async () => { server = await startRedis() })
t.teardown(() => server.stop())

contract(t, 'memory', async (t, o) => {
  const p = createMemoryTokenProvider({ fetchToken: o.fetch, refreshAhead: o.refreshAhead, onEvent: o.onEvent, clock: o.clock })
  t.teardown(() => p.close())
  return p
})

let clientSeq = 0
contract(t, 'redis', async (t, o) => {
  const redis = redisConn(server.url)
  await ready(redis)
  const p = createRedisTokenProvider({ redis, clientId: `contract-${++clientSeq}`, sealKey: KEY, fetchToken: o.fetch, refreshAhead: o.refreshAhead, onEvent: o.onEvent, clock: o.clock })
  t.teardown(async () => { await p.close(); await redis.quit() })
  return p
})

// The same contract on a three-master cluster: the token and its lock keep to one client's slot.
t.test('redis cluster twin', async (t) => {
  const cluster = await startRedisCluster()
  t.teardown(() => cluster.stop())
  contract(t, 'redis cluster', async (t, o) => {
    const redis = createRedisClient(cluster.settings)
    redis.on('error', () => {})
    await redis.connect()
    const p = createRedisTokenProvider({ redis, clientId: `cluster-${++clientSeq}`, sealKey: KEY, fetchToken: o.fetch, refreshAhead: o.refreshAhead, onEvent: o.onEvent, clock: o.clock })
    t.teardown(async () => { await p.close(); redis.disconnect() })
    return p
  })
})

t.test('memory: refresh ahead with an injected clock, then a blocking fetch at expiry', async (t) => {
  const ep = endpoint({ expiresInSeconds: 3600 })
  let now = 1_000_000
  const p = createMemoryTokenProvider({ fetchToken: () => ep.fetch(), clock: () => now, random: () => 0.5, refreshAhead: { min: 0.1, max: 0.3 } })
  const first = await p.getToken()
  now += 3600 * 1000 * 0.75 // refresh point at 80 % (0.1 + 0.5 × 0.2 left); not there yet
  t.equal(await p.getToken(), first)
  t.equal(ep.fetches, 1, 'no refresh before the refresh point')
  now += 3600 * 1000 * 0.1 // 85 %: past the refresh point, before expiry
  t.equal(await p.getToken(), first, 'the current token is still served')
  await until(() => ep.issued.length >= 2, 2000)
  t.equal(ep.fetches, 2, 'one background refresh')
  const second = await p.getToken()
  t.not(second, first)
  now += 3600 * 1000 * 2 // long past expiry
  const third = await p.getToken()
  t.not(third, second, 'an expired token is never served')
  t.equal(ep.fetches, 3)
})

t.test('redis: 3 replicas × 50 callers, empty cache, slow endpoint ⇒ one fetch', async (t) => {
  const ep = endpoint({ latencyMs: 300 })
  const conns = [1, 2, 3].map(() => redisConn(server.url))
  await Promise.all(conns.map(ready))
  t.teardown(() => Promise.all(conns.map((c) => c.quit())))
  const providers = conns.map((redis) => createRedisTokenProvider({ redis, clientId: 'fleet', sealKey: KEY, fetchToken: () => ep.fetch() }))
  const tokens = await Promise.all(providers.flatMap((p) => Array.from({ length: 50 }, () => p.getToken())))
  t.equal(new Set(tokens).size, 1)
  t.equal(ep.fetches, 1)
  await Promise.all(providers.map((p) => p.close()))
})

t.test('redis: 3 replicas refresh ahead of expiry with one fetch between them', async (t) => {
  const ep = endpoint({ expiresInSeconds: 4, latencyMs: 200 })
  const conns = [1, 2, 3].map(() => redisConn(server.url))
  await Promise.all(conns.map(ready))
  t.teardown(() => Promise.all(conns.map((c) => c.quit())))
  const clock = skippingClock()
  const providers = conns.map((redis) => createRedisTokenProvider({ redis, clientId: 'fleet-refresh', sealKey: KEY, fetchToken: () => ep.fetch(), refreshAhead: { min: 0.75, max: 0.75 }, clock: clock.now }))
  const first = await Promise.all(providers.map((p) => p.getToken()))
  t.equal(new Set(first).size, 1)
  clock.skip(1100)
  const during = await Promise.all(providers.flatMap((p) => [p.getToken(), p.getToken()]))
  t.same(new Set(during), new Set(first), 'the current token is served while one replica refreshes')
  await until(() => ep.issued.length >= 2, 2000)
  // Each replica adopts the refreshed token once it is stored: asked until then, bounded.
  let after = await Promise.all(providers.map((p) => p.getToken()))
  for (const deadline = Date.now() + 3000; after.some((tok) => tok !== ep.issued[1]) && Date.now() < deadline; await sleep(20)) after = await Promise.all(providers.map((p) => p.getToken()))
  t.equal(ep.fetches, 2, 'one refresh for the fleet')
  t.same(after, [ep.issued[1], ep.issued[1], ep.issued[1]], 'every replica adopted the refreshed token')
})

t.test('redis: a lock left by a dead holder delays, never blocks', async (t) => {
  const ep = endpoint()
  const redis = redisConn(server.url)
  await ready(redis)
  t.teardown(() => redis.quit())
  await redis.set(genesysKeys.tokenLock('orphan'), 'someone-dead', 'PX', 60_000)
  const events: TokenEvent[] = []
  const p = createRedisTokenProvider({ redis, clientId: 'orphan', sealKey: KEY, fetchToken: () => ep.fetch(), waitForOtherMs: 300, onEvent: (e) => events.push(e) })
  const started = Date.now()
  const tokens = await Promise.all(Array.from({ length: 10 }, () => p.getToken()))
  const elapsed = Date.now() - started
  t.equal(new Set(tokens).size, 1)
  t.ok(elapsed >= 290, `waited for the holder first (${elapsed} ms)`)
  t.equal(ep.fetches, 1)
  t.ok(events.includes('wait'))
  // Still there: it fetched itself without waiting for the 60 s lock to expire, and left it alone.
  t.equal(await redis.get(genesysKeys.tokenLock('orphan')), 'someone-dead', 'a lock it does not hold is left alone, and was not waited out')
})

t.test('redis: a holder that fails releases the lock and a waiter takes over', async (t) => {
  const ep = endpoint({ latencyMs: 200 })
  const [r1, r2] = [redisConn(server.url), redisConn(server.url)]
  await Promise.all([ready(r1), ready(r2)])
  t.teardown(() => Promise.all([r1.quit(), r2.quit()]))
  const p1 = createRedisTokenProvider({ redis: r1, clientId: 'failing-holder', sealKey: KEY, fetchToken: () => ep.fetch() })
  const log2 = captureLogger()
  const p2 = createRedisTokenProvider({ redis: r2, clientId: 'failing-holder', sealKey: KEY, fetchToken: () => ep.fetch(), logger: log2 })
  ep.failOnce()
  const a = p1.getToken().then(() => undefined, (err: unknown) => err)
  await sleep(50)
  const b = await p2.getToken()
  t.match(await a, { message: 'token endpoint down' }, 'the holder saw its own failure')
  t.ok(b)
  t.notOk(log2.text().includes('no token from the lock holder in time'), 'took the released lock: did not sit out the whole 10 s wait bound')
  t.equal(ep.fetches, 2)
})

t.test('redis: invalidate in one replica, the other picks up the new token after its own 401', async (t) => {
  const ep = endpoint()
  const [r1, r2] = [redisConn(server.url), redisConn(server.url)]
  await Promise.all([ready(r1), ready(r2)])
  t.teardown(() => Promise.all([r1.quit(), r2.quit()]))
  const p1 = createRedisTokenProvider({ redis: r1, clientId: 'revoked', sealKey: KEY, fetchToken: () => ep.fetch() })
  const p2 = createRedisTokenProvider({ redis: r2, clientId: 'revoked', sealKey: KEY, fetchToken: () => ep.fetch() })
  const old = await p1.getToken()
  t.equal(await p2.getToken(), old, 'shared through Redis')
  await p1.invalidate(old)
  const fresh = await p1.getToken()
  t.not(fresh, old)
  t.equal(await p2.getToken(), old, 'p2 still serves its local copy until its own 401')
  await p2.invalidate(old)
  t.equal(await p2.getToken(), fresh, 'adopted from Redis, not fetched again')
  t.equal(ep.fetches, 2)
  const raw = await r1.get(genesysKeys.token('revoked'))
  t.match(JSON.parse(raw ?? '{}'), { digest: tokenDigest(fresh) }, 'the stale invalidate left the new token in Redis')
})

t.test('redis: the stored token is sealed; a replica without the secret cannot use it', async (t) => {
  const ep = endpoint()
  const [r1, r2] = [redisConn(server.url), redisConn(server.url)]
  await Promise.all([ready(r1), ready(r2)])
  t.teardown(() => Promise.all([r1.quit(), r2.quit()]))
  const p1 = createRedisTokenProvider({ redis: r1, clientId: 'sealed', sealKey: sealKeyFor('sealed', 'the secret'), fetchToken: () => ep.fetch() })
  const token = await p1.getToken()
  const raw = await r1.get(genesysKeys.token('sealed')) ?? ''
  t.notOk(raw.includes(token), 'the token is not in Redis in the clear')
  t.notOk(raw.includes(token.slice(0, 12)), 'nor any recognisable part of it')
  const wrongKey = createRedisTokenProvider({ redis: r2, clientId: 'sealed', sealKey: sealKeyFor('sealed', 'another secret'), fetchToken: () => ep.fetch() })
  t.not(await wrongKey.getToken(), token, 'another key cannot open it and fetches its own')
  t.equal(ep.fetches, 2)
  await r1.set(genesysKeys.token('sealed'), raw.replace(/"sealed":"(.)/, (_m, c: string) => `"sealed":"${c === 'A' ? 'B' : 'A'}`))
  const p3 = createRedisTokenProvider({ redis: r2, clientId: 'sealed', sealKey: sealKeyFor('sealed', 'the secret'), fetchToken: () => ep.fetch() })
  t.not(await p3.getToken(), token, 'an altered value is refused')
})

t.test('redis: keys hash the client id; the token key has a TTL under the lifetime', async (t) => {
  const ep = endpoint({ expiresInSeconds: 300 })
  const redis = redisConn(server.url)
  await ready(redis)
  t.teardown(() => redis.quit())
  const clientId = 'client-id-that-must-not-leak'
  const p = createRedisTokenProvider({ redis, clientId, sealKey: KEY, fetchToken: () => ep.fetch() })
  await p.getToken()
  const keys = await redis.keys('genesys:token*')
  t.notOk(keys.some((k) => k.includes(clientId)))
  t.match(genesysKeys.token(clientId), /^genesys:token:\{[0-9a-f]{32}\}$/, "the hashed id is the key's hash tag: one slot per OAuth client")
  const ttl = await redis.pttl(genesysKeys.token(clientId))
  t.ok(ttl > 250_000 && ttl <= 270_000, `PX ${ttl} is the lifetime less the 30 s margin`)
})

for (const [name, breakIt, fixIt] of [
  ['stopped', (r: TestRedis) => r.kill(), (r: TestRedis) => r.restart()],
  ['hung (SIGSTOP)', async (r: TestRedis) => { r.pause() }, async (r: TestRedis) => { r.resume() }],
] as const) {
  t.test(`redis ${name}: getToken falls back in bounded time`, async (t) => {
    const own = await startRedis()
    t.teardown(() => own.stop())
    const redis = redisConn(own.url)
    await ready(redis)
    t.teardown(() => redis.disconnect())
    const ep = endpoint({ latencyMs: 100 })
    const log = captureLogger()
    const events: TokenEvent[] = []
    const p = createRedisTokenProvider({ redis, clientId: `down-${name}`, sealKey: KEY, fetchToken: () => ep.fetch(), onEvent: (e) => events.push(e), logger: log })
    await breakIt(own)
    t.teardown(() => fixIt(own))
    const started = Date.now()
    const tokens = await Promise.all(Array.from({ length: 20 }, () => p.getToken()))
    const elapsed = Date.now() - started
    t.equal(new Set(tokens).size, 1)
    t.equal(ep.fetches, 1, 'in-process single flight')
    // Bounded by the 500 ms Redis timeout plus the 100 ms fetch; an unbounded
    // call would hang (SIGSTOP) or sit out the 10 s lock wait. Generous for a busy machine.
    t.ok(elapsed < 5000, `obtained in ${elapsed} ms (fetch 100 ms + Redis calls bounded at 500 ms)`)
    t.ok(events.includes('fallback'))
    t.ok(log.count() > 0, 'the fallback is logged')
    const seen = events.length
    t.equal(await p.getToken(), tokens[0], 'the fallback token is cached in-process')
    t.same(events.slice(seen), ['hit'], 'served from the local copy, no Redis call')
    t.equal(ep.fetches, 1)
    const invalidating = Date.now()
    await p.invalidate(tokens[0] ?? '')
    t.ok(Date.now() - invalidating < 5000, 'invalidate is bounded too')
    t.not(await p.getToken(), tokens[0])
    t.notOk(ep.issued.some((tok) => log.text().includes(tok)), 'no token in the log')
    await p.close()
  })
}

t.test('redis: no token ever reaches the logger, whatever the path', async (t) => {
  const own = await startRedis()
  t.teardown(() => own.stop())
  const redis = redisConn(own.url)
  await ready(redis)
  t.teardown(() => redis.disconnect())
  const ep = endpoint({ latencyMs: 20, expiresInSeconds: 4 })
  const log = captureLogger()
  const events: TokenEvent[] = []
  const clock = skippingClock()
  const p = createRedisTokenProvider({ redis, clientId: 'logs', sealKey: KEY, fetchToken: () => ep.fetch(), logger: log, onEvent: (e) => events.push(e), waitForOtherMs: 200, refreshAhead: { min: 0.75, max: 0.75 }, clock: clock.now })
  // The lock held by someone else (debug line when giving up), a 401, a refresh,
  // a failed refresh, then Redis hanging.
  await redis.set(genesysKeys.tokenLock('logs'), 'other', 'PX', 60_000)
  const a = await p.getToken()
  await p.invalidate(a)
  await p.getToken()
  clock.skip(1100)
  ep.failOnce()
  await p.getToken()
  await until(() => ep.fetches >= 3, 2000)
  await sleep(50)
  own.pause()
  t.teardown(() => own.resume())
  await p.getToken()
  await until(() => ep.fetches >= 4 && ep.issued.length >= 3, 3000) // the failed refresh issued nothing; the fallback fetch did
  await p.invalidate(ep.issued.at(-1) ?? '')
  await p.getToken()
  t.ok(log.count() >= 3, `${log.count()} log lines captured`)
  t.ok(ep.issued.length >= 3)
  for (const tok of ep.issued) t.notOk(log.text().includes(tok), 'token absent from the log')
  t.notOk(log.text().includes('tok-canary'), 'not even a prefix')
  t.notOk(events.some((e) => e.includes('tok')), 'events carry no token')
  await p.close()
})

t.test('redis: close() cuts a wait short', async (t) => {
  const ep = endpoint()
  const redis = redisConn(server.url)
  await ready(redis)
  t.teardown(() => redis.quit())
  await redis.set(genesysKeys.tokenLock('closing'), 'other', 'PX', 60_000)
  // Polls far apart: only close() waking the wait can end it before the next poll.
  const p = createRedisTokenProvider({ redis, clientId: 'closing', sealKey: KEY, fetchToken: () => ep.fetch(), pollMs: 60_000, waitForOtherMs: 120_000 })
  const pending = p.getToken()
  await sleep(100)
  const started = Date.now()
  await p.close()
  await t.rejects(pending, /closed/)
  t.ok(Date.now() - started < 30_000, 'woken at once, not at the next poll a minute later')
  t.equal(ep.fetches, 0)
})
