/**
 * End to end: N hires posted to a service (api + worker in one process, Redis)
 * that talks to a simulator with added latency and a per-minute limit equal to
 * the service's budget. Reports completion rate against the limit, upstream
 * 429s and the request→completed latency distribution.
 *
 *   npx tsx bench/end-to-end.ts [--hires 1000] [--limit 3000] [--latency 50]
 */
import { parseArgs } from 'node:util'
import { createSimulator } from '../src/simulator/index.js'
import { startRedis } from '../test/helpers/redis.js'
import { BENCH_KEY, benchClientsFile, machine, percentile, startServer } from './lib.js'

const { values } = parseArgs({ options: { hires: { type: 'string', default: '1000' }, limit: { type: 'string', default: '3000' }, latency: { type: 'string', default: '50' }, 'max-minutes': { type: 'string', default: '10' } } })
const hires = Number(values.hires)
const limit = Number(values.limit)
const latencyMs = Number(values.latency)

interface View { id: string, status: string, createdAt: string, transitions: Array<{ status: string, at: string }> }

async function main (): Promise<void> {
  const sim = await createSimulator({ rateLimitPerMinute: limit, faults: { latencyMs, jitterMs: Math.round(latencyMs / 5) } })
  const redis = await startRedis({ appendonly: true })
  const server = await startServer({
    ROLE: 'all',
    REDIS_URL: redis.url,
    CLIENTS_FILE: await benchClientsFile(),
    GENESYS_API_URL: sim.url,
    GENESYS_LOGIN_URL: sim.url,
    GENESYS_CLIENT_ID: sim.credentials.clientId,
    GENESYS_CLIENT_SECRET: sim.credentials.clientSecret,
    GENESYS_RATE_LIMIT_PER_MINUTE: String(limit),
    WORKER_CONCURRENCY: '64',
  })
  const headers = { authorization: `Bearer ${BENCH_KEY}`, 'content-type': 'application/json' }
  try {
    const started = Date.now()
    const ids: string[] = []
    // Post in parallel batches of 50 (an HRIS bulk load).
    for (let i = 0; i < hires; i += 50) {
      const batch = await Promise.all(Array.from({ length: Math.min(50, hires - i) }, async (_, j) => {
        const n = i + j
        const res = await fetch(`${server.url}/v1/provisioning-requests`, {
          method: 'POST',
          headers,
          body: JSON.stringify({ hrId: `E2E-${n}`, email: `e2e.${n}@example.com`, givenName: 'E2E', familyName: `Hire ${n}`, division: n % 2 ? 'BPO Alpha' : 'BPO Beta', roles: ['Agent'], groups: [n % 3 ? 'Ops/Support' : 'Ops/Sales'] }),
        })
        if (res.status !== 202) throw new Error(`intake answered ${res.status}: ${await res.text()}`)
        return ((await res.json()) as View).id
      }))
      ids.push(...batch)
    }
    const accepted = Date.now()

    // Poll until every request is terminal (bounded).
    const deadline = started + Number(values['max-minutes']) * 60_000
    const done = new Map<string, View>()
    while (done.size < ids.length && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 1000))
      for (let page: string | undefined, first = true; first || page; first = false) {
        const res = await fetch(`${server.url}/v1/provisioning-requests?limit=100${page ? `&cursor=${encodeURIComponent(page)}` : ''}`, { headers })
        const body = (await res.json()) as { items: View[], nextCursor?: string }
        for (const v of body.items) if (['completed', 'rejected', 'failed'].includes(v.status)) done.set(v.id, v)
        page = body.nextCursor
      }
    }
    const finished = Math.max(...[...done.values()].map((v) => Date.parse(v.transitions.at(-1)?.at ?? v.createdAt)))
    const completed = [...done.values()].filter((v) => v.status === 'completed')
    const latencies = completed.map((v) => Date.parse(v.transitions.at(-1)?.at ?? v.createdAt) - Date.parse(v.createdAt))
    const counters = sim.counters()
    const minutes = (finished - started) / 60_000
    const upstreamPerMin = counters.apiRequests / minutes
    const callsPerHire = counters.apiRequests / Math.max(1, completed.length)
    const lines = [
      `end to end (${new Date().toISOString().slice(0, 10)}, ${machine()}; ${hires} hires, simulator ${latencyMs} ms ± ${Math.round(latencyMs / 5)} ms latency, limit ${limit}/min = budget)`,
      `  accepted all in ${((accepted - started) / 1000).toFixed(1)} s; terminal ${done.size}/${ids.length}; completed ${completed.length}; others ${done.size - completed.length}`,
      `  wall time to last completion ${(minutes * 60).toFixed(1)} s → ${(completed.length / minutes).toFixed(0)} hires/min`,
      `  upstream: ${counters.apiRequests} API calls (${callsPerHire.toFixed(2)} per hire) = ${upstreamPerMin.toFixed(0)}/min = ${(100 * upstreamPerMin / limit).toFixed(1)} % of the limit; 429s: ${counters.rateLimited}; token requests: ${counters.tokenRequests}`,
      `  busiest routes: ${Object.entries(counters.byRoute).sort((a, b) => b[1] - a[1]).slice(0, 6).map(([r, n]) => `${r} ${n}`).join('; ')}`,
      `  request→completed latency: p50 ${(percentile(latencies, 50) / 1000).toFixed(1)} s, p95 ${(percentile(latencies, 95) / 1000).toFixed(1)} s, max ${(Math.max(...latencies) / 1000).toFixed(1)} s`,
    ]
    console.log(lines.join('\n'))
  } finally {
    await server.stop()
    await redis.stop()
    await sim.close()
  }
}

main().catch((err: unknown) => {
  console.error(err)
  process.exit(1)
})
