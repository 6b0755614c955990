/**
 * One 1,000-record worker batch through one Genesys rate limit: three service
 * processes (ROLE=all) on one Redis, the simulator with 50 ± 10 ms latency and
 * a 300/min limit equal to the service's budget. The batch is posted to one
 * replica; the report gives the intake time (the 202), the time until every
 * record's request is terminal (the batch `completed`), the upstream calls per
 * record by kind, and the batch's counts.
 *
 *   npx tsx bench/batch.ts [--records 1000] [--replicas 3]
 */
import { parseArgs } from 'node:util'
import { BENCH_KEY, benchClientsFile, machine, runBench, withFleet } from './lib.js'

const { values } = parseArgs({ options: { records: { type: 'string', default: '1000' }, replicas: { type: 'string', default: '3' } } })
const LIMIT = 300
const LATENCY = 50

async function main (): Promise<void> {
  const n = Number(values.records)
  const headers = { authorization: `Bearer ${BENCH_KEY}`, 'content-type': 'application/json' }
  await withFleet({ replicas: Number(values.replicas), limit: LIMIT, latencyMs: LATENCY, clientsFile: await benchClientsFile() }, async ({ sim, servers }) => {
    const workers = Array.from({ length: n }, (_, i) => ({ hrId: `WB-${i}`, email: `batch.${i}@example.com`, givenName: 'Batch', familyName: `Record ${i}`, division: 'BPO Alpha', roles: ['Agent'], groups: ['Ops/Support'] }))
    const body = JSON.stringify({ workers })
    sim.resetLog()
    const started = performance.now()
    const res = await fetch(`${servers[0]?.url ?? ''}/v1/worker-batches`, { method: 'POST', headers, body })
    const intakeMs = performance.now() - started
    if (res.status !== 202) throw new Error(`intake answered ${res.status}: ${await res.text()}`)
    const id = ((await res.json()) as { id: string }).id
    let view: { status: string, counts: Record<string, number> } | undefined
    const deadline = Date.now() + 15 * 60_000
    while (Date.now() < deadline) {
      view = (await (await fetch(`${servers[1 % servers.length]?.url ?? ''}/v1/worker-batches/${id}?limit=1`, { headers })).json()) as { status: string, counts: Record<string, number> }
      if (view.status === 'completed') break
      await new Promise((resolve) => setTimeout(resolve, 1000))
    }
    const doneMs = performance.now() - started
    // Why the requests that did not complete ended as they did.
    const page = (await (await fetch(`${servers[0]?.url ?? ''}/v1/worker-batches/${id}?limit=1000`, { headers })).json()) as { results: Array<{ requestId?: string, requestStatus?: string }> }
    const reasons = new Map<string, number>()
    for (const r of page.results.filter((x) => x.requestStatus !== undefined && x.requestStatus !== 'completed')) {
      const req = (await (await fetch(`${servers[0]?.url ?? ''}/v1/provisioning-requests/${r.requestId ?? ''}`, { headers })).json()) as { status: string, error?: { code: string, message: string }, issues?: Array<{ code: string }> }
      const why = `${req.status}: ${req.error ? `${req.error.code} ${req.error.message}` : (req.issues ?? []).map((i) => i.code).join(' ')}`
      reasons.set(why, (reasons.get(why) ?? 0) + 1)
    }
    const log = sim.requests().filter((r) => r.path !== '/oauth/token')
    const byKind = new Map<string, number>()
    for (const r of log) {
      const k = `${r.method} ${r.path.replace(/\/(users|groups|roles)\/[^/]+$/, '/$1/{id}')}`
      byKind.set(k, (byKind.get(k) ?? 0) + 1)
    }
    console.log([
      `batch (${new Date().toISOString().slice(0, 10)}, ${machine()}; ${servers.length} replicas on one Redis; simulator ${LATENCY} ± ${LATENCY / 5} ms, limit ${LIMIT}/min = the service's budget)`,
      `  ${n} records (${(Buffer.byteLength(body) / 1024).toFixed(0)} KiB): intake answered 202 in ${(intakeMs / 1000).toFixed(2)} s; batch ${view?.status ?? 'unknown'} after ${(doneMs / 1000).toFixed(1)} s (${(n / (doneMs / 60_000)).toFixed(0)} records/min)`,
      `  counts: ${JSON.stringify(view?.counts ?? {})}${reasons.size > 0 ? `; not completed: ${[...reasons].map(([k, c]) => `${c} × ${k}`).join('; ')}` : ''}`,
      `  upstream calls: ${log.length} = ${(log.length / n).toFixed(2)} per record; by kind: ${[...byKind.entries()].sort((a, b) => b[1] - a[1]).map(([k, c]) => `${k} ${(c / n).toFixed(2)}`).join(', ')}; 429s: ${log.filter((r) => r.status === 429).length}`,
    ].join('\n'))
  })
}

runBench(main)
