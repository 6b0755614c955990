/**
 * Tenants with their own Genesys OAuth clients: each token has its own
 * per-minute limit at Genesys, so two tenants with their own OAuth clients
 * should finish in about the time one needs alone. Three scenarios, each a
 * fresh simulator, Redis and fleet of service processes:
 *   A alone:        tenant A's hires, its own OAuth client
 *   A + B own:      both tenants' hires, each with its own OAuth client
 *   A + B shared:   both tenants' hires on one default OAuth client (the baseline: one budget)
 * Reports the time to the last completion, calls per hire, 429s and token
 * fetches per OAuth client (from the simulator's log).
 *
 *   npx tsx bench/tenants.ts [--hires 100] [--limit 300] [--replicas 2] [--latency 20]
 */
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { sha256Hex } from '../src/config/clients.js'
import { createSimulator, defaultSeed } from '../src/simulator/index.js'
import { startRedis } from '../test/helpers/redis.js'
import { fleetEnv, machine, startServer, type ServiceProcess } from './lib.js'

const { values } = parseArgs({ options: { hires: { type: 'string', default: '100' }, limit: { type: 'string', default: '300' }, replicas: { type: 'string', default: '2' }, latency: { type: 'string', default: '20' }, 'max-minutes': { type: 'string', default: '6' } } })
const hires = Number(values.hires)
const limit = Number(values.limit)
const replicas = Number(values.replicas)
const latencyMs = Number(values.latency)

const ALPHA = 'c0ffee00-0000-4000-8000-0000000000a1'
const BETA = 'c0ffee00-0000-4000-8000-0000000000b1'
const secretOf = (id: string) => defaultSeed().clients.find((c) => c.clientId === id)?.clientSecret ?? ''
const KEYS = { a: 'gpk_bench_tenant_a_0123456789abcdefghijklmnopq', b: 'gpk_bench_tenant_b_0123456789abcdefghijklmnopq' }

interface Tenant { id: 'bpo-a' | 'bpo-b', key: string, division: string, own: boolean }
interface View { id: string, status: string, createdAt: string, transitions: Array<{ status: string, at: string }> }

async function scenario (name: string, tenants: Tenant[]): Promise<{ name: string, seconds: number, completed: number, total: number, callsPerHire: number, rateLimited: number, tokens: Record<string, number> }> {
  const sim = await createSimulator({ rateLimitPerMinute: limit, faults: { latencyMs, jitterMs: Math.round(latencyMs / 5) } })
  const redis = await startRedis({ appendonly: true })
  const dir = await mkdtemp(join(tmpdir(), 'prov-bench-tenants-'))
  const clientsFile = join(dir, 'clients.json')
  await writeFile(clientsFile, JSON.stringify({
    clients: tenants.map((t) => ({
      id: t.id, name: t.id, keySha256: sha256Hex(t.key), scopes: ['provisioning:write', 'provisioning:read'], divisions: [t.division],
      ...(t.own ? { genesys: { clientIdEnv: `${t.id.toUpperCase().replace('-', '_')}_ID`, clientSecretEnv: `${t.id.toUpperCase().replace('-', '_')}_SECRET` } } : {}),
    })),
  }))
  const env = {
    ...fleetEnv({ sim, redisUrl: redis.url, clientsFile, limit }),
    BPO_A_ID: ALPHA,
    BPO_A_SECRET: secretOf(ALPHA),
    BPO_B_ID: BETA,
    BPO_B_SECRET: secretOf(BETA),
  }
  const servers: ServiceProcess[] = []
  try {
    for (let i = 0; i < replicas; i++) servers.push(await startServer(env))
    // The startup checks (credentials, permissions) are not part of the run's calls; their tokens count.
    await new Promise((resolve) => setTimeout(resolve, 1500))
    const before = sim.counters()
    const started = Date.now()
    const posted: Array<{ tenant: Tenant, id: string }> = []
    // Both tenants post at once, interleaved, in batches of 20 (an HRIS bulk load each).
    for (let i = 0; i < hires; i += 20) {
      const batch = await Promise.all(tenants.flatMap((t) => Array.from({ length: Math.min(20, hires - i) }, async (_, j) => {
        const n = i + j
        const server = servers[n % servers.length] as ServiceProcess
        const res = await fetch(`${server.url}/v1/provisioning-requests`, {
          method: 'POST',
          headers: { authorization: `Bearer ${t.key}`, 'content-type': 'application/json' },
          body: JSON.stringify({ hrId: `${t.id}-${n}`, email: `${t.id}.${n}@example.com`, givenName: 'Bench', familyName: `Hire ${n}`, division: t.division, roles: ['Agent'] }),
        })
        if (res.status !== 202) throw new Error(`intake answered ${res.status}: ${await res.text()}`)
        return { tenant: t, id: ((await res.json()) as View).id }
      })))
      posted.push(...batch)
    }
    const deadline = started + Number(values['max-minutes']) * 60_000
    const done = new Map<string, View>()
    const server = servers[0] as ServiceProcess
    while (done.size < posted.length && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 1000))
      for (const t of tenants) {
        for (let page: string | undefined, first = true; first || page; first = false) {
          const res = await fetch(`${server.url}/v1/provisioning-requests?limit=100${page ? `&cursor=${encodeURIComponent(page)}` : ''}`, { headers: { authorization: `Bearer ${t.key}` } })
          const body = (await res.json()) as { items: View[], nextCursor?: string }
          for (const v of body.items) if (['completed', 'rejected', 'failed'].includes(v.status)) done.set(v.id, v)
          page = body.nextCursor
        }
      }
    }
    const finished = Math.max(...[...done.values()].map((v) => Date.parse(v.transitions.at(-1)?.at ?? v.createdAt)))
    const completed = [...done.values()].filter((v) => v.status === 'completed').length
    // Every token the fleet fetched, from the first replica's start.
    const log = sim.requests()
    const tokens: Record<string, number> = {}
    for (const r of log) {
      if (r.path !== '/oauth/token' || r.status !== 200) continue
      const who = r.clientId === ALPHA ? 'A' : r.clientId === BETA ? 'B' : 'default'
      tokens[who] = (tokens[who] ?? 0) + 1
    }
    const counters = sim.counters()
    const calls = counters.apiRequests - before.apiRequests
    return { name, seconds: (finished - started) / 1000, completed, total: posted.length, callsPerHire: calls / Math.max(1, completed), rateLimited: counters.rateLimited, tokens }
  } finally {
    for (const s of servers) await s.stop()
    await redis.stop()
    await sim.close()
  }
}

async function main (): Promise<void> {
  const a: Tenant = { id: 'bpo-a', key: KEYS.a, division: 'BPO Alpha', own: true }
  const b: Tenant = { id: 'bpo-b', key: KEYS.b, division: 'BPO Beta', own: true }
  const alone = await scenario('A alone (own OAuth client)', [a])
  const both = await scenario('A + B (each its own OAuth client)', [a, b])
  const shared = await scenario('A + B (one shared OAuth client, baseline)', [{ ...a, own: false }, { ...b, own: false }])
  const lines = [
    `tenants (${new Date().toISOString().slice(0, 10)}, ${machine()}; ${hires} hires per tenant, ${limit}/min per token at the simulator and per OAuth client in the service, ${replicas} replicas on one Redis, simulator latency ${latencyMs} ms)`,
    ...[alone, both, shared].map((r) => `  ${r.name}: ${r.completed}/${r.total} completed in ${r.seconds.toFixed(1)} s; ${r.callsPerHire.toFixed(2)} calls per hire; 429s: ${r.rateLimited}; token fetches ${Object.entries(r.tokens).map(([k, v]) => `${k} ${v}`).join(', ')}`),
    `  ratio A + B own / A alone: ${(both.seconds / alone.seconds).toFixed(2)}; shared / A alone: ${(shared.seconds / alone.seconds).toFixed(2)}`,
  ]
  console.log(lines.join('\n'))
}

await main()
