/**
 * One tenant's bulk load next to another's single hires: two API clients
 * sharing the one Genesys OAuth client (its 300/min budget), three service
 * processes (ROLE=all) on one Redis, the simulator at 50 ± 10 ms and 300/min.
 * Tenant A posts its hires at once; tenant B posts one hire at a time, spread
 * over A's run. Reports B's request→completed next to A's throughput.
 *
 *   npx tsx bench/fairness.ts [--a 500] [--b 5] [--every 20]
 */
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { sha256Hex } from '../src/config/clients.js'
import { createSimulator } from '../src/simulator/index.js'
import { startRedis } from '../test/helpers/redis.js'
import { fleetEnv, machine, median, percentile, runBench, startServer, type ServiceProcess } from './lib.js'

const { values } = parseArgs({ options: { a: { type: 'string', default: '500' }, b: { type: 'string', default: '5' }, every: { type: 'string', default: '20' } } })
const LIMIT = 300
const KEY_A = 'gpk_fairness_tenant_a_0123456789abcdefghijk'
const KEY_B = 'gpk_fairness_tenant_b_0123456789abcdefghijk'

interface View { id: string, status: string, createdAt: string, transitions: Array<{ status: string, at: string }> }
const endOf = (v: View) => Date.parse(v.transitions.at(-1)?.at ?? v.createdAt)

async function main (): Promise<void> {
  const sim = await createSimulator({ rateLimitPerMinute: LIMIT, faults: { latencyMs: 50, jitterMs: 10 } })
  const redis = await startRedis({ appendonly: true })
  const dir = await mkdtemp(join(tmpdir(), 'prov-fairness-'))
  const clientsFile = join(dir, 'clients.json')
  await writeFile(clientsFile, JSON.stringify({
    clients: [
      { id: 'tenant-a', name: 'Tenant A', keySha256: sha256Hex(KEY_A), scopes: ['provisioning:write', 'provisioning:read'], divisions: ['BPO Alpha'] },
      { id: 'tenant-b', name: 'Tenant B', keySha256: sha256Hex(KEY_B), scopes: ['provisioning:write', 'provisioning:read'], divisions: ['BPO Beta'] },
    ],
  }))
  const servers: ServiceProcess[] = await Promise.all(Array.from({ length: 3 }, () => startServer(fleetEnv({ sim, redisUrl: redis.url, clientsFile, limit: LIMIT }))))
  const post = async (key: string, n: number, server: ServiceProcess, body: Record<string, unknown>) => {
    const res = await fetch(`${server.url}/v1/provisioning-requests`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) })
    if (res.status !== 202) throw new Error(`intake ${n} answered ${res.status}: ${await res.text()}`)
    return [server, key, ((await res.json()) as { id: string }).id] as const
  }
  const settle = async (ids: ReadonlyArray<readonly [ServiceProcess, string, string]>, deadline: number): Promise<View[]> => {
    const done = new Map<string, View>()
    while (done.size < ids.length && Date.now() < deadline) {
      for (const [server, key, id] of ids) {
        if (done.has(id)) continue
        const v = (await (await fetch(`${server.url}/v1/provisioning-requests/${id}`, { headers: { authorization: `Bearer ${key}` } })).json()) as View
        if (['completed', 'rejected', 'failed'].includes(v.status)) done.set(id, v)
      }
      await new Promise((resolve) => setTimeout(resolve, 500))
    }
    return [...done.values()]
  }
  try {
    const aCount = Number(values.a)
    const a = await Promise.all(Array.from({ length: aCount }, (_, i) => post(KEY_A, i, servers[i % 3] as ServiceProcess, { hrId: `A-${i}`, email: `tenant.a.${i}@example.com`, givenName: 'A', familyName: `Bulk ${i}`, division: 'BPO Alpha', roles: ['Agent'] })))
    const b: Array<readonly [ServiceProcess, string, string]> = []
    const bViews: View[] = []
    for (let i = 0; i < Number(values.b); i++) {
      await new Promise((resolve) => setTimeout(resolve, Number(values.every) * 1000))
      const one = await post(KEY_B, i, servers[i % 3] as ServiceProcess, { hrId: `B-${i}`, email: `tenant.b.${i}@example.com`, givenName: 'B', familyName: `Single ${i}`, division: 'BPO Beta', roles: ['Agent'] })
      b.push(one)
    }
    bViews.push(...await settle(b, Date.now() + 10 * 60_000))
    const aViews = await settle(a, Date.now() + 15 * 60_000)
    const aDone = aViews.filter((v) => v.status === 'completed')
    const aMinutes = (Math.max(...aViews.map(endOf)) - Math.min(...aViews.map((v) => Date.parse(v.createdAt)))) / 60_000
    const bLatency = bViews.map((v) => endOf(v) - Date.parse(v.createdAt))
    const aBehind = bViews.map((v) => aViews.filter((x) => Date.parse(x.createdAt) < Date.parse(v.createdAt) && endOf(x) > Date.parse(v.createdAt)).length)
    console.log([
      `fairness (${new Date().toISOString().slice(0, 10)}, ${machine()}; 3 replicas on one Redis, one OAuth client for both tenants, limit ${LIMIT}/min, simulator 50 ± 10 ms)`,
      `  tenant A: ${aDone.length}/${aCount} completed, ${(aDone.length / aMinutes).toFixed(0)} hires/min`,
      `  tenant B: ${bViews.filter((v) => v.status === 'completed').length}/${b.length} completed, one every ${values.every} s during A's run; request→completed p50 ${(median(bLatency) / 1000).toFixed(1)} s, p95 ${(percentile(bLatency, 95) / 1000).toFixed(1)} s, each: ${bLatency.map((l) => (l / 1000).toFixed(1)).join(', ')} s; A's requests still open when each was posted: ${aBehind.join(', ')}`,
      `  429s: ${sim.requests().filter((r) => r.status === 429).length}`,
    ].join('\n'))
  } finally {
    await Promise.all(servers.map((s) => s.stop()))
    await redis.stop()
    await sim.close()
  }
}

runBench(main)
