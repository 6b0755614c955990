/**
 * The shared rate budget across replicas: three service processes (api and
 * worker each) on one Redis, hires posted round-robin to them, against a
 * simulator that answers 429 above its per-minute limit. The budget is the
 * same limit; the report gives the busiest 60 s window seen by the simulator,
 * the 429s and the token requests.
 *
 *   npx tsx bench/fleet.ts [--hires 300] [--limit 1200] [--replicas 3] [--latency 30]
 */
import { parseArgs } from 'node:util'
import { createSimulator } from '../src/simulator/index.js'
import { startRedis } from '../test/helpers/redis.js'
import { BENCH_KEY, benchClientsFile, fleetEnv, machine, startServer, type ServiceProcess } from './lib.js'

const { values } = parseArgs({ options: { hires: { type: 'string', default: '300' }, limit: { type: 'string', default: '1200' }, replicas: { type: 'string', default: '3' }, latency: { type: 'string', default: '30' }, 'max-minutes': { type: 'string', default: '5' } } })
const hires = Number(values.hires)
const limit = Number(values.limit)
const replicas = Number(values.replicas)
const latencyMs = Number(values.latency)

async function main (): Promise<void> {
  const sim = await createSimulator({ rateLimitPerMinute: limit, faults: { latencyMs, jitterMs: Math.round(latencyMs / 5) } })
  const redis = await startRedis({ appendonly: true })
  const clientsFile = await benchClientsFile()
  const env = fleetEnv({ sim, redisUrl: redis.url, clientsFile, limit })
  const servers: ServiceProcess[] = await Promise.all(Array.from({ length: replicas }, () => startServer(env)))
  const headers = { authorization: `Bearer ${BENCH_KEY}`, 'content-type': 'application/json' }
  try {
    const started = Date.now()
    const ids: Array<[ServiceProcess, string]> = []
    for (let i = 0; i < hires; i += 30) {
      ids.push(...await Promise.all(Array.from({ length: Math.min(30, hires - i) }, async (_, j) => {
        const n = i + j
        const server = servers[n % servers.length] as ServiceProcess
        const res = await fetch(`${server.url}/v1/provisioning-requests`, {
          method: 'POST',
          headers,
          body: JSON.stringify({ hrId: `FL-${n}`, email: `fleet.${n}@example.com`, givenName: 'Fleet', familyName: `Hire ${n}`, division: 'BPO Alpha', roles: ['Agent'], groups: ['Ops/Support'] }),
        })
        if (res.status !== 202) throw new Error(`intake answered ${res.status}: ${await res.text()}`)
        return [server, ((await res.json()) as { id: string }).id] as [ServiceProcess, string]
      })))
    }
    const deadline = started + Number(values['max-minutes']) * 60_000
    const done = new Set<string>()
    while (done.size < ids.length && Date.now() < deadline) {
      for (const [server, id] of ids) {
        if (done.has(id)) continue
        const r = await fetch(`${server.url}/v1/provisioning-requests/${id}`, { headers })
        const status = ((await r.json()) as { status: string }).status
        if (['completed', 'rejected', 'failed'].includes(status)) done.add(id)
      }
      await new Promise((resolve) => setTimeout(resolve, 500))
    }
    const wallS = (Date.now() - started) / 1000
    const log = sim.requests()
    const api = log.filter((r) => r.path !== '/oauth/token').map((r) => Date.parse(r.at)).sort((a, b) => a - b)
    let busiest = 0
    for (let i = 0, j = 0; j < api.length; j++) {
      while ((api[j] ?? 0) - (api[i] ?? 0) >= 60_000) i++
      busiest = Math.max(busiest, j - i + 1)
    }
    const limited = log.filter((r) => r.status === 429).length
    const tokens = log.filter((r) => r.path === '/oauth/token').length
    console.log([
      `fleet (${new Date().toISOString().slice(0, 10)}, ${machine()}; ${replicas} replicas (ROLE=all) on one Redis, limit ${limit}/min, simulator latency ${latencyMs} ms)`,
      `  hires completed      : ${done.size} / ${hires} in ${wallS.toFixed(1)} s`,
      `  upstream API calls   : ${api.length} (${(api.length / hires).toFixed(2)} per hire), ${(api.length / (wallS / 60)).toFixed(0)}/min over the run`,
      `  busiest 60 s window  : ${busiest} calls = ${(100 * busiest / limit).toFixed(1)} % of the limit`,
      `  upstream 429s        : ${limited}; token requests: ${tokens}`,
    ].join('\n'))
  } finally {
    await Promise.all(servers.map((s) => s.stop()))
    await redis.stop()
    await sim.close()
  }
}

main().catch((err: unknown) => {
  console.error(err)
  process.exit(1)
})
