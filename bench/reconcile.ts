/**
 * Drift reconciliation of 1,000 managed workers through a 300/min budget: one
 * service process (ROLE=all) on Redis, the simulator at 50 ± 10 ms. The
 * workers are users already in the org (seeded in the simulator directly),
 * taken over by an import (`apply`, nothing to change); 30 of them are then
 * changed by hand (10 moved, 10 deactivated, 10 emails edited). The report
 * gives the run's time, its Genesys calls and the drift it found.
 *
 *   npx tsx bench/reconcile.ts [--workers 1000] [--percent 20]
 */
import { parseArgs } from 'node:util'
import { SCIM_ENTERPRISE_USER } from '../src/genesys/types.js'
import { connectionTo } from '../test/helpers/genesys.js'
import { BENCH_KEY, benchClientsFile, machine, runBench, withFleet } from './lib.js'

const { values } = parseArgs({ options: { workers: { type: 'string', default: '1000' }, percent: { type: 'string', default: '20' } } })
const LIMIT = 300

async function main (): Promise<void> {
  const n = Number(values.workers)
  const headers = { authorization: `Bearer ${BENCH_KEY}`, 'content-type': 'application/json' }
  const env = { RECONCILE_BUDGET_PERCENT: String(values.percent) }
  // The simulator itself is not the limit here: the service keeps to its own 300/min.
  await withFleet({ replicas: 1, limit: LIMIT, simLimit: 100_000, latencyMs: 50, clientsFile: await benchClientsFile(), env }, async ({ sim, servers }) => {
    const url = servers[0]?.url ?? ''
    const g = connectionTo(sim)
    const ids: string[] = []
    for (let i = 0; i < n; i += 20) {
      ids.push(...await Promise.all(Array.from({ length: Math.min(20, n - i) }, async (_, j) => (await g.client.users.create({ userName: `owned.${i + j}@example.com`, displayName: `Owned ${i + j}`, externalId: `bench:R${i + j}`, enterprise: { division: 'BPO Alpha' } })).resource.id)))
    }
    const workers = ids.map((_, i) => ({ hrId: `R${i}`, email: `owned.${i}@example.com`, givenName: 'Owned', familyName: `Worker ${i}`, division: 'BPO Alpha' }))
    const poll = async (path: string, done: (b: Record<string, unknown>) => boolean) => {
      for (let k = 0; k < 3600; k++) {
        const b = (await (await fetch(`${url}${path}`, { headers })).json()) as Record<string, unknown>
        if (done(b)) return b
        await new Promise((resolve) => setTimeout(resolve, 500))
      }
      throw new Error(`${path} did not finish`)
    }
    const imp = (await (await fetch(`${url}/v1/imports`, { method: 'POST', headers, body: JSON.stringify({ mode: 'apply', workers }) })).json()) as { id: string }
    const imported = await poll(`/v1/imports/${imp.id}`, (b) => b.status !== 'running')
    // By hand: 10 moved, 10 deactivated, 10 emails edited.
    for (let i = 0; i < 30; i++) {
      const id = ids[i * Math.floor(n / 30)] ?? ''
      const u = await g.client.users.get(id)
      const op = i < 10 ? { op: 'replace' as const, path: `${SCIM_ENTERPRISE_USER}:division`, value: 'BPO Beta' } : i < 20 ? { op: 'replace' as const, path: 'active', value: false } : { op: 'replace' as const, path: 'userName', value: `edited.${i}@example.com` }
      await g.client.users.patch(id, [op], u.version)
    }
    const before = sim.requests().length
    const started = performance.now()
    const run = (await (await fetch(`${url}/v1/reconciliations`, { method: 'POST', headers, body: '{}' })).json()) as { id: string }
    const done = await poll(`/v1/reconciliations/${run.id}`, (b) => b.status !== 'running')
    const seconds = (performance.now() - started) / 1000
    await g.close()
    const calls = sim.requests().slice(before).filter((r) => r.path !== '/oauth/token')
    const byKind = new Map<string, number>()
    for (const r of calls) byKind.set(`${r.method} ${r.path.replace(/\/users\/[^/]+$/, '/users/{id}')}`, (byKind.get(`${r.method} ${r.path.replace(/\/users\/[^/]+$/, '/users/{id}')}`) ?? 0) + 1)
    console.log([
      `reconcile (${new Date().toISOString().slice(0, 10)}, ${machine()}; 1 service process on Redis; budget ${LIMIT}/min, reconciliation at ${String(values.percent)} % of it; simulator 50 ± 10 ms)`,
      `  import apply of ${n} existing users: ${JSON.stringify((imported as { counts?: unknown }).counts)}, ${String((imported as { upstreamCalls?: number }).upstreamCalls)} calls`,
      `  reconciliation of ${String(done.workers)} workers: ${String(done.status)} in ${seconds.toFixed(1)} s (status polled every 0.5 s), ${String(done.upstreamCalls)} Genesys calls (${[...byKind].map(([k, c]) => `${k} ${c}`).join(', ')}); found ${JSON.stringify(done.found)}`,
    ].join('\n'))
  })
}

runBench(main)
