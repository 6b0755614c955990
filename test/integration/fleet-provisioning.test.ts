import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { sha256Hex } from '../../src/config/clients.js'
import { createSimulator, type Simulator } from '../../src/simulator/index.js'
import { startRedis } from '../helpers/redis.js'
import { startRedisCluster, startRedisSentinel } from '../helpers/redis-topologies.js'
import { simulatorEnv } from '../helpers/genesys.js'
import { startService, type RunningService } from '../helpers/service.js'

/**
 * Separate api and worker processes sharing Redis (AOF on), talking to one
 * simulator over HTTP: the deployment shape, with its failure modes.
 */
// Separate processes and a crash loop: longer than the suite's default file timeout.
t.setTimeout(300_000)

const KEY = 'gpk_fleet_test_0123456789abcdefghijklmnopqrstu'

type Topology = 'standalone' | 'sentinel' | 'cluster'

/** The service's Redis variables for a fresh topology of this kind, stopped at teardown. */
async function redisEnv (t: Test, topology: Topology): Promise<Record<string, string>> {
  if (topology === 'standalone') {
    const redis = await startRedis({ appendonly: true })
    t.teardown(() => redis.stop())
    return { REDIS_URL: redis.url }
  }
  const redis = topology === 'sentinel' ? await startRedisSentinel() : await startRedisCluster()
  t.teardown(() => redis.stop())
  return redis.env
}

async function fleet (t: Test, simOpts: Parameters<typeof createSimulator>[0] = {}, extraEnv: Record<string, string> = {}, topology: Topology = 'standalone') {
  const sim = await createSimulator({ rateLimitPerMinute: 100_000, ...simOpts })
  t.teardown(() => sim.close())
  const redis = await redisEnv(t, topology)
  const dir = await mkdtemp(join(tmpdir(), 'prov-fleet-'))
  const clientsFile = join(dir, 'clients.json')
  await writeFile(clientsFile, JSON.stringify({ clients: [{ id: 'hris', name: 'HRIS', keySha256: sha256Hex(KEY), scopes: ['provisioning:write', 'provisioning:read'], divisions: '*' }] }))
  const env = {
    ...redis,
    CLIENTS_FILE: clientsFile,
    ...simulatorEnv(sim),
    JOB_LOCK_MS: '2000',
    SHUTDOWN_GRACE_MS: '2000',
    ...extraEnv,
  }
  const services: RunningService[] = []
  t.teardown(() => Promise.all(services.map((s) => s.stop('SIGKILL'))))
  async function start (role: 'api' | 'worker' | 'all'): Promise<RunningService> {
    const s = await startService({ ...env, ROLE: role })
    services.push(s)
    return s
  }
  return { sim, start }
}

const headers = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }
const hire = (n: number) => ({ hrId: `F-${n}`, email: `fleet.${n}@example.com`, givenName: 'Fleet', familyName: `Hire ${n}`, division: n % 2 ? 'BPO Alpha' : 'BPO Beta', roles: ['Agent'], groups: ['Ops/Support'] })

async function post (api: RunningService, body: unknown, extra: Record<string, string> = {}) {
  const res = await fetch(`${api.url}/v1/provisioning-requests`, { method: 'POST', headers: { ...headers, ...extra }, body: JSON.stringify(body) })
  return { status: res.status, body: (await res.json()) as { id?: string, status?: string } }
}

async function statusOf (api: RunningService, id: string): Promise<string> {
  const res = await fetch(`${api.url}/v1/provisioning-requests/${id}`, { headers })
  return ((await res.json()) as { status: string }).status
}

async function waitTerminal (api: RunningService, ids: string[], timeoutMs: number, log?: (s: string) => void): Promise<Map<string, string>> {
  const states = new Map<string, string>()
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    log?.(JSON.stringify(Object.fromEntries([...new Set(states.values())].map((s) => [s, [...states.values()].filter((x) => x === s).length]))))
    for (const id of ids) {
      if (!['completed', 'rejected', 'failed'].includes(states.get(id) ?? '')) states.set(id, await statusOf(api, id))
    }
    if ([...states.values()].every((s) => ['completed', 'rejected', 'failed'].includes(s))) break
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
  return states
}

const liveUsers = (sim: Simulator, prefix: string) => [...sim.state.users.values()].filter((u) => u.state !== 'deleted' && (u.externalId ?? '').startsWith(prefix))

// The joiner flow and the duplicate storm hold whichever way Redis runs: one
// fleet per topology (three api processes, one worker) serves both.
for (const topology of ['standalone', 'sentinel', 'cluster'] as const) {
t.test(`${topology}: api and worker as separate processes`, async (t) => {
  const { sim, start } = await fleet(t, {}, {}, topology)
  const [apis] = await Promise.all([Promise.all([start('api'), start('api'), start('api')]), start('worker')])

  await t.test('the happy path', async (t) => {
    const res = await post(apis[0] as RunningService, hire(1))
    t.equal(res.status, 202)
    const states = await waitTerminal(apis[0] as RunningService, [res.body.id ?? ''], 30_000)
    t.equal(states.get(res.body.id ?? ''), 'completed')
    const users = liveUsers(sim, 'hris:F-1')
    t.equal(users.length, 1)
    t.equal(sim.state.divisions.get(users[0]?.divisionId ?? '')?.name, 'BPO Alpha')
  })

  await t.test('100 concurrent duplicates over 3 api processes ⇒ one request, one upstream create', async (t) => {
    const createsBefore = sim.requests().filter((r) => r.method === 'POST' && /\/scim\/v2\/users$/.test(r.path)).length
    const body = hire(2)
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => post(apis[i % 3] as RunningService, body, { 'idempotency-key': 'dup-key-1' })))
    const statuses = new Set(results.map((r) => r.status))
    t.ok([...statuses].every((s) => s === 202 || s === 409), `only 202 (first or replay) and 409 (in flight): ${[...statuses].join(', ')}`)
    const ids = new Set(results.filter((r) => r.status === 202).map((r) => r.body.id))
    t.equal(ids.size, 1, 'every 202 names the same request')
    const list = await fetch(`${apis[0]?.url ?? ''}/v1/provisioning-requests?hrId=F-2`, { headers })
    t.equal(((await list.json()) as { items: unknown[] }).items.length, 1, 'one request stored')
    const id = [...ids][0] ?? ''
    t.equal((await waitTerminal(apis[0] as RunningService, [id], 30_000)).get(id), 'completed')
    t.equal(sim.requests().filter((r) => r.method === 'POST' && /\/scim\/v2\/users$/.test(r.path)).length - createsBefore, 1, 'one upstream create')

    const mismatch = await post(apis[1] as RunningService, { ...body, title: 'Other' }, { 'idempotency-key': 'dup-key-1' })
    t.equal(mismatch.status, 422, 'the same key with another body')
  })
})
}

t.test('crash safety: 200 hires, workers killed with SIGKILL ten times mid-run ⇒ exactly 200 users, all terminal', { timeout: 240_000 }, async (t) => {
  const began = Date.now()
  // Slow upstream and few jobs per worker: the run outlasts the kill loop.
  const { sim, start } = await fleet(t, { faults: { latencyMs: 60, jitterMs: 10 } }, { WORKER_CONCURRENCY: '2' })
  const api = await start('api')
  const workers = await Promise.all([start('worker'), start('worker')])
  const ids: string[] = []
  for (let i = 0; i < 200; i += 50) {
    const batch = await Promise.all(Array.from({ length: 50 }, (_, j) => post(api, hire(1000 + i + j))))
    for (const r of batch) {
      t.equal(r.status, 202)
      ids.push(r.body.id ?? '')
    }
  }
  // Ten kills, 600 ms apart, of whichever worker has lived longest; each is
  // replaced at once (its replacement takes a moment to boot, so at times no
  // worker runs at all).
  const live = [...workers]
  const starting: Array<Promise<void>> = []
  const killDeadline = Date.now() + 60_000
  for (let kills = 0; kills < 10 && Date.now() < killDeadline;) {
    await new Promise((resolve) => setTimeout(resolve, 600))
    const victim = live.shift()
    if (!victim) continue
    await victim.stop('SIGKILL')
    kills++
    starting.push(start('worker').then((s) => { live.push(s) }))
  }
  await Promise.all(starting)
  const killedBy = Date.now() - began
  const doneAtLastKill = sim.requests().filter((r) => r.method === 'POST' && /\/scim\/v2\/users$/.test(r.path)).length
  t.comment(`users created when the last worker was killed: ${doneAtLastKill}/200`)
  const states = await waitTerminal(api, ids, 120_000)
  t.comment(`posted and killed in ${killedBy} ms; all terminal after ${Date.now() - began} ms`)
  const counts = new Map<string, number>()
  for (const s of states.values()) counts.set(s, (counts.get(s) ?? 0) + 1)
  const failedId = [...states.entries()].find(([, s]) => s !== 'completed')?.[0]
  const sample = failedId ? await (await fetch(`${api.url}/v1/provisioning-requests/${failedId}`, { headers })).text() : ''
  t.same(Object.fromEntries(counts), { completed: 200 }, `every request completed ${sample}`)
  t.equal(liveUsers(sim, 'hris:F-1').filter((u) => /^hris:F-1\d{3}$/.test(u.externalId ?? '')).length, 200, 'exactly 200 users upstream, none twice')
  const creates = sim.requests().filter((r) => r.method === 'POST' && /\/scim\/v2\/users$/.test(r.path) && r.status === 201).length
  t.equal(creates, 200, 'no duplicate create reached Genesys')
})
