import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { Redis } from 'ioredis'
import t, { type Test } from 'tap'
import { gcraFor } from '../../src/genesys/budget/memory.js'
import { genesysKeys } from '../../src/genesys/keys.js'
import { createSimulator, type Simulator } from '../../src/simulator/index.js'
import type { RedisSettings } from '../../src/config/redis.js'
import { nodeArgsFor } from '../helpers/entry.js'
import { startRedis } from '../helpers/redis.js'
import { startRedisCluster, startRedisSentinel } from '../helpers/redis-topologies.js'

const REPLICA = fileURLToPath(new URL('../fixtures/genesys-replica.ts', import.meta.url))

interface Replica {
  ready: Promise<void>
  result: Promise<Record<string, number | string>>
  kill (): void
}

/** One replica process; resolves with the JSON line it prints at the end. */
function replica (spec: Record<string, unknown>): Replica {
  const child = spawn(process.execPath, [...nodeArgsFor(REPLICA), JSON.stringify(spec)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, _TAPJS_PROCESSINFO_COVERAGE_: '0' },
  })
  let out = ''
  let err = ''
  let markReady: () => void = () => {}
  const ready = new Promise<void>((resolve) => { markReady = resolve })
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString()
    if (out.includes('ready\n')) markReady()
  })
  child.stderr.on('data', (d: Buffer) => { err += d.toString() })
  const result = new Promise<Record<string, number | string>>((resolve, reject) => {
    child.once('exit', () => {
      const line = out.trim().split('\n').filter((l) => l.startsWith('{')).at(-1)
      if (line) resolve(JSON.parse(line) as Record<string, number | string>)
      else reject(new Error(`replica printed no result: ${out}\n${err}`))
    })
  })
  return { ready, result, kill: () => child.kill('SIGKILL') }
}

async function fleetSetup (t: Test, sim: Simulator) {
  const redis = await startRedis()
  t.teardown(() => redis.stop())
  t.teardown(() => sim.close())
  return { redisUrl: redis.url, simUrl: sim.url, ...sim.credentials }
}

// The same promise whichever way Redis runs: one endpoint, a Sentinel-watched master, a cluster.
for (const topology of ['standalone', 'sentinel', 'cluster'] as const) {
  t.test(`${topology}: 3 replicas × 50 callers, empty cache, slow token endpoint ⇒ exactly one token request`, async (t) => {
    const sim = await createSimulator({ faults: { latencyMs: 800, match: '/oauth/token' } })
    t.teardown(() => sim.close())
    let redis: { redisUrl: string } | { redis: RedisSettings }
    if (topology === 'standalone') {
      const server = await startRedis()
      t.teardown(() => server.stop())
      redis = { redisUrl: server.url }
    } else {
      const server = topology === 'sentinel' ? await startRedisSentinel() : await startRedisCluster()
      t.teardown(() => server.stop())
      redis = { redis: server.settings }
    }
    const base = { ...redis, simUrl: sim.url, ...sim.credentials }
    const replicas = [1, 2, 3].map(() => replica({ ...base, perMinute: 6000, mode: 'tokens', callers: 50 }))
    const results = await Promise.all(replicas.map((r) => r.result))
    for (const r of results) t.equal(r.distinct, 1, 'every caller of a replica got the same token')
    t.equal(sim.counters().tokenRequests, 1, 'the simulator saw one token request for 150 callers')
  })
}

t.test('lock holder killed mid-fetch: the others still get a token, without waiting out its lock', async (t) => {
  const sim = await createSimulator({ faults: { latencyMs: 1000, match: '/oauth/token' } })
  const base = await fleetSetup(t, sim)
  // A lock that outlives the test: if the others got a token, they did not wait for it to expire.
  const tokenOpts = { waitForOtherMs: 1000, lockTtlMs: 120_000 }
  const holder = replica({ ...base, ...tokenOpts, perMinute: 6000, mode: 'tokens', callers: 1 })
  holder.result.catch(() => {}) // it is killed before it can print one
  await holder.ready
  // Let it take the lock and start its (slow) fetch, then kill it.
  const probe = new Redis(base.redisUrl)
  t.teardown(() => probe.quit())
  const deadline = Date.now() + 5000
  while ((await probe.exists(genesysKeys.tokenLock(base.clientId))) === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10))
  const lock = await probe.get(genesysKeys.tokenLock(base.clientId))
  t.ok(lock, 'the holder took the fetch lock')
  holder.kill()
  const others = [replica({ ...base, ...tokenOpts, perMinute: 6000, mode: 'tokens', callers: 10 }), replica({ ...base, ...tokenOpts, perMinute: 6000, mode: 'tokens', callers: 10 })]
  const results = await Promise.all(others.map((r) => r.result))
  for (const r of results) t.equal(r.distinct, 1)
  t.equal(await probe.exists(genesysKeys.token(base.clientId)), 1, 'the token is shared again')
  t.equal(await probe.get(genesysKeys.tokenLock(base.clientId)), lock, "the dead holder's lock is still there: nobody waited for it to expire")
  // The dead holder's request, then at most one per survivor (each gives up
  // waiting for the holder and fetches, unless the other's token landed first).
  t.ok(sim.counters().tokenRequests <= 3, `${sim.counters().tokenRequests} token requests`)
})

t.test('shared budget: 3 replicas × 40 calls at 1 200/min ⇒ every call answered, no 429, one token, one burst for the fleet', async (t) => {
  const perMinute = 1200
  const sim = await createSimulator({ rateLimitPerMinute: perMinute })
  const base = await fleetSetup(t, sim)
  const calls = 40
  const replicas = [1, 2, 3].map(() => replica({ ...base, perMinute, mode: 'calls', calls }))
  const results = await Promise.all(replicas.map((r) => r.result))
  const sum = (field: string) => results.reduce((n, r) => n + Number(r[field]), 0)
  t.equal(sum('ok'), 3 * calls, 'every call answered')
  t.equal(sum('limited'), 0, 'zero 429s from the simulator')
  t.equal(sim.counters().rateLimited, 0)
  t.equal(sum('other'), 0, 'no other failures')
  t.equal(sim.counters().tokenRequests, 1, 'one token request for the fleet')
  // One GCRA for the fleet: only its burst goes without waiting, however the
  // calls interleave (a budget per replica would let 3 bursts through).
  const { burst } = gcraFor(perMinute)
  const unwaited = 3 * calls - sum('waited')
  t.ok(unwaited < 2 * burst, `${unwaited} calls went without waiting for a slot (one fleet burst: ${burst})`)
})
