/**
 * Hires through one Genesys rate limit: three service processes (ROLE=all) on
 * one Redis, the simulator with 50 ± 10 ms latency and a 300/min limit equal to
 * the service's budget. All hires are posted at once, round-robin over the
 * replicas; the report gives the upstream calls per hire by kind (from the
 * simulator's log), hires per minute from the first acceptance to the last
 * completion, the share of the budget used over that span, 429s, and p50/p95
 * request→completed.
 *
 *   1. one division, one role, one group: the bulk load batching is made for;
 *   2. spread: hires over 5 divisions, 3 roles and 10 groups (batches are smaller);
 *   3. single hires one every `--single-every` seconds, the budget far from
 *      saturated: request→completed of a hire that queues behind nothing.
 *
 *   npx tsx bench/throughput.ts [--hires 500] [--spread-hires 300] [--single-hires 20] [--single-every 3] [--replicas 3]
 */
import { parseArgs } from 'node:util'
import { createSimulator, defaultSeed } from '../src/simulator/index.js'
import { startRedis } from '../test/helpers/redis.js'
import { BENCH_KEY, benchClientsFile, fleetEnv, machine, median, percentile, rssMiB, runBench, startServer, type ServiceProcess } from './lib.js'

const { values } = parseArgs({ options: { hires: { type: 'string', default: '500' }, 'spread-hires': { type: 'string', default: '300' }, replicas: { type: 'string', default: '3' }, 'single-hires': { type: 'string', default: '20' }, 'single-every': { type: 'string', default: '3' } } })
const LIMIT = 300
const LATENCY = 50

interface View { id: string, status: string, createdAt: string, transitions: Array<{ status: string, at: string }> }
type Hire = Record<string, unknown> & { hrId: string }

/** One upstream call's kind: the method and the path with its ids replaced. */
function kindOf (method: string, path: string): string {
  const p = path
    .replace(/\/users\/[^/]+$/, '/users/{id}').replace(/\/groups\/[^/]+$/, '/groups/{id}')
    .replace(/\/roles\/[^/]+$/, '/roles/{id}').replace(/\/subjects\/[^/]+/, '/subjects/{id}')
  return `${method} ${p}`
}

async function run (name: string, hires: Hire[], replicas: number, seedExtra?: (seed: ReturnType<typeof defaultSeed>) => void, everyMs?: number): Promise<string[]> {
  const seed = defaultSeed()
  seedExtra?.(seed)
  const sim = await createSimulator({ seed, rateLimitPerMinute: LIMIT, faults: { latencyMs: LATENCY, jitterMs: LATENCY / 5 } })
  const redis = await startRedis({ appendonly: true })
  const env = fleetEnv({ sim, redisUrl: redis.url, clientsFile: await benchClientsFile(), limit: LIMIT })
  const servers: ServiceProcess[] = await Promise.all(Array.from({ length: replicas }, () => startServer(env)))
  const headers = { authorization: `Bearer ${BENCH_KEY}`, 'content-type': 'application/json' }
  try {
    sim.resetLog()
    const started = Date.now()
    const ids: Array<[ServiceProcess, string]> = []
    // All at once in bursts of 50, or (paced) one every `everyMs`.
    const burst = everyMs === undefined ? 50 : 1
    for (let i = 0; i < hires.length; i += burst) {
      if (everyMs !== undefined && i > 0) await new Promise((resolve) => setTimeout(resolve, everyMs))
      ids.push(...await Promise.all(hires.slice(i, i + burst).map(async (hire, j) => {
        const server = servers[(i + j) % servers.length] as ServiceProcess
        const res = await fetch(`${server.url}/v1/provisioning-requests`, { method: 'POST', headers, body: JSON.stringify(hire) })
        if (res.status !== 202) throw new Error(`intake answered ${res.status}: ${await res.text()}`)
        return [server, ((await res.json()) as { id: string }).id] as [ServiceProcess, string]
      })))
    }
    const deadline = started + 15 * 60_000
    const done = new Map<string, View>()
    while (done.size < ids.length && Date.now() < deadline) {
      for (const [server, id] of ids) {
        if (done.has(id)) continue
        const v = (await (await fetch(`${server.url}/v1/provisioning-requests/${id}`, { headers })).json()) as View
        if (['completed', 'rejected', 'failed'].includes(v.status)) done.set(id, v)
      }
      await new Promise((resolve) => setTimeout(resolve, 1000))
    }
    const views = [...done.values()]
    const completed = views.filter((v) => v.status === 'completed')
    const first = Math.min(...views.map((v) => Date.parse(v.createdAt)))
    const last = Math.max(...views.map((v) => Date.parse(v.transitions.at(-1)?.at ?? v.createdAt)))
    const minutes = (last - first) / 60_000
    const log = sim.requests().filter((r) => r.path !== '/oauth/token')
    const byKind = new Map<string, number>()
    for (const r of log) byKind.set(kindOf(r.method, r.path), (byKind.get(kindOf(r.method, r.path)) ?? 0) + 1)
    const latencies = completed.map((v) => Date.parse(v.transitions.at(-1)?.at ?? v.createdAt) - Date.parse(v.createdAt))
    const n = hires.length
    const rss = await Promise.all(servers.map((s) => rssMiB(s.child.pid)))
    return [
      `  ${name}: ${completed.length}/${n} completed (${views.length - completed.length} not), ${replicas} replicas`,
      `    upstream calls: ${log.length} = ${(log.length / n).toFixed(2)} per hire; by kind per hire: ${[...byKind.entries()].sort((a, b) => b[1] - a[1]).map(([k, c]) => `${k} ${(c / n).toFixed(2)}`).join(', ')}`,
      `    ${(completed.length / minutes).toFixed(0)} hires/min over ${(minutes * 60).toFixed(0)} s (first accepted to last completed); budget used ${(100 * log.length / (LIMIT * minutes)).toFixed(1)} %; 429s: ${log.filter((r) => r.status === 429).length}`,
      `    request→completed p50 ${(median(latencies) / 1000).toFixed(1)} s, p95 ${(percentile(latencies, 95) / 1000).toFixed(1)} s`,
      `    RSS of each replica (api and worker in one process) after the run: ${rss.map((r) => `${r.toFixed(0)} MiB`).join(', ')}`,
    ]
  } finally {
    await Promise.all(servers.map((s) => s.stop()))
    await redis.stop()
    await sim.close()
  }
}

async function main (): Promise<void> {
  const replicas = Number(values.replicas)
  const bulk = Array.from({ length: Number(values.hires) }, (_, i): Hire => ({ hrId: `TP-${i}`, email: `throughput.${i}@example.com`, givenName: 'Through', familyName: `Put ${i}`, division: 'BPO Alpha', roles: ['Agent'], groups: ['Ops/Support'] }))
  const divisions = ['BPO Alpha', 'BPO Beta', 'BPO Gamma', 'BPO Delta', 'BPO Epsilon']
  const roles = ['Agent', 'Employee', 'Team Lead']
  const groups = ['Sales', 'Support', 'Support Tier 2', 'Billing', 'Care 5', 'Care 6', 'Care 7', 'Care 8', 'Care 9', 'Care 10']
  const spread = Array.from({ length: Number(values['spread-hires']) }, (_, i): Hire => ({
    hrId: `SP-${i}`, email: `spread.${i}@example.com`, givenName: 'Spread', familyName: `Hire ${i}`,
    division: divisions[i % divisions.length], roles: [roles[i % roles.length]], groups: [`Ops/${groups[i % groups.length] ?? ''}`],
  }))
  const single = Array.from({ length: Number(values['single-hires']) }, (_, i): Hire => ({ hrId: `SG-${i}`, email: `single.${i}@example.com`, givenName: 'Single', familyName: `Hire ${i}`, division: 'BPO Alpha', roles: ['Agent'], groups: ['Ops/Support'] }))
  const every = Number(values['single-every']) * 1000
  const report = [
    `throughput (${new Date().toISOString().slice(0, 10)}, ${machine()}; simulator ${LATENCY} ± ${LATENCY / 5} ms, limit ${LIMIT}/min = the service's budget)`,
    ...await run(`one division, one role, one group (${bulk.length} hires)`, bulk, replicas),
    ...await run(`spread over 5 divisions, 3 roles, 10 groups (${spread.length} hires)`, spread, replicas, (seed) => {
      for (const [i, name] of divisions.slice(2).entries()) seed.divisions.push({ id: `1d000000-0000-4000-8000-00000000010${i}`, name, description: name, homeDivision: false })
      for (const [i, name] of groups.slice(4).entries()) seed.groups.push({ id: `3a000000-0000-4000-8000-00000000010${i}`, name, description: name, memberIds: [] })
    }),
    ...await run(`single hires, one every ${every / 1000} s, budget not saturated (${single.length} hires)`, single, replicas, undefined, every),
  ]
  console.log(report.join('\n'))
}

runBench(main)
