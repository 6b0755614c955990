/**
 * Leavers: how long a termination takes from request to completed (Genesys has
 * deactivated the user and the service has removed its groups), and what it
 * costs upstream. One service process (ROLE=all, Redis), the simulator with
 * 50 ± 10 ms latency and a 300/min limit equal to the service's budget.
 *
 *   1. hires the workers (PUT /v1/workers/{hrId}, one role, one group) and waits;
 *   2. no backlog: terminates them one at a time (PATCH {"status":"terminated"},
 *      Prefer: wait=30), each after the previous completed;
 *   3. with a backlog: posts a batch of hires, then terminates the remaining
 *      workers one at a time while the hires drain through the same budget;
 *   4. scheduled: terminations of further workers, all effective at one
 *      instant 65 s ahead (a change within a minute runs at once): how long after
 *      that instant each starts and completes.
 *
 *   npx tsx bench/lifecycle.ts [--workers 20] [--backlog 60] [--during 5] [--scheduled 10]
 */
import { parseArgs } from 'node:util'
import { createSimulator } from '../src/simulator/index.js'
import { startRedis } from '../test/helpers/redis.js'
import { BENCH_KEY, benchClientsFile, fleetEnv, machine, median, percentile, runBench, startServer } from './lib.js'

const { values } = parseArgs({ options: { workers: { type: 'string', default: '20' }, backlog: { type: 'string', default: '60' }, during: { type: 'string', default: '5' }, scheduled: { type: 'string', default: '10' } } })
const quiet = Number(values.workers)
const backlog = Number(values.backlog)
const during = Number(values.during)
const scheduled = Number(values.scheduled)
const LIMIT = 300
const LATENCY = 50

interface View { id: string, kind: string, status: string, createdAt: string, transitions: Array<{ status: string, at: string }>, steps?: Array<{ name: string, detail: Record<string, unknown> }> }
/** When Genesys confirmed the deactivation (the user can no longer log in). */
const inactiveAt = (v: View) => Date.parse(String(v.steps?.find((s) => s.name === 'deactivate')?.detail.deactivatedAt ?? ''))
const terminalAt = (v: View) => Date.parse(v.transitions.at(-1)?.at ?? v.createdAt)
const worker = (n: number) => ({ email: `leaver.${n}@example.com`, givenName: 'Lea', familyName: `Ver ${n}`, division: 'BPO Alpha', roles: ['Agent'], groups: ['Ops/Support'] })

async function main (): Promise<void> {
  const sim = await createSimulator({ rateLimitPerMinute: LIMIT, faults: { latencyMs: LATENCY, jitterMs: LATENCY / 5 } })
  const redis = await startRedis({ appendonly: true })
  // The brake on mass terminations would hold most of these (they are the point of the run): off.
  const server = await startServer({ ...fleetEnv({ sim, redisUrl: redis.url, clientsFile: await benchClientsFile(), limit: LIMIT }), LIFECYCLE_BRAKE_PERCENT: '100', LIFECYCLE_BRAKE_COUNT: '100000' })
  const headers = { authorization: `Bearer ${BENCH_KEY}`, 'content-type': 'application/json' }
  const call = async (method: string, path: string, body: unknown, extra: Record<string, string> = {}) => {
    const res = await fetch(`${server.url}${path}`, { method, headers: { ...headers, ...extra }, body: JSON.stringify(body) })
    return { status: res.status, body: (await res.json()) as View }
  }
  const settle = async (ids: string[], deadlineMs: number): Promise<View[]> => {
    const done = new Map<string, View>()
    while (done.size < ids.length && Date.now() < deadlineMs) {
      for (const id of ids.filter((x) => !done.has(x))) {
        const v = (await (await fetch(`${server.url}/v1/provisioning-requests/${id}`, { headers })).json()) as View
        if (['completed', 'rejected', 'failed'].includes(v.status)) done.set(id, v)
      }
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
    return [...done.values()]
  }
  const terminate = async (n: number) => {
    const before = sim.counters()
    const sent = Date.now()
    const res = await call('PATCH', `/v1/workers/LV-${n}`, { status: 'terminated' }, { 'content-type': 'application/merge-patch+json', prefer: 'wait=25' })
    if (res.body.kind !== 'terminate' || (res.status !== 201 && res.status !== 202)) throw new Error(`worker LV-${n}: ${res.status} ${JSON.stringify(res.body)}`)
    // Not done within the wait: follow the request to its end (bounded).
    const [view] = res.status === 201 ? [res.body] : await settle([res.body.id], Date.now() + 120_000)
    if (!view) throw new Error(`worker LV-${n}: the termination did not finish in time`)
    return { view, waitedMs: Date.now() - sent, calls: sim.counters().apiRequests - before.apiRequests }
  }
  try {
    // 1. The workers, hired through the lifecycle API.
    const total = quiet + during + scheduled
    const hires = await Promise.all(Array.from({ length: total }, (_, n) => call('PUT', `/v1/workers/LV-${n}`, worker(n))))
    const hired = await settle(hires.map((h) => h.body.id), Date.now() + 5 * 60_000)
    const hiredOk = hired.filter((v) => v.status === 'completed').length
    if (hiredOk !== total) throw new Error(`only ${hiredOk}/${total} workers were hired`)

    // 2. No backlog: one termination at a time.
    const calm: Array<Awaited<ReturnType<typeof terminate>>> = []
    for (let n = 0; n < quiet; n++) calm.push(await terminate(n))

    // 3. A batch of hires ahead in the same budget, then the remaining terminations.
    const batch = await Promise.all(Array.from({ length: backlog }, (_, i) => call('POST', '/v1/provisioning-requests', { hrId: `BL-${i}`, ...worker(1000 + i) })))
    const busy: Array<Awaited<ReturnType<typeof terminate>>> = []
    for (let n = quiet; n < quiet + during; n++) busy.push(await terminate(n))
    const drained = await settle(batch.map((b) => b.body.id), Date.now() + 5 * 60_000)

    // 4. Terminations scheduled for one instant.
    const effectiveAt = new Date(Date.now() + 65_000).toISOString()
    const planned = await Promise.all(Array.from({ length: scheduled }, (_, i) => call('PATCH', `/v1/workers/LV-${quiet + during + i}`, { status: 'terminated', effectiveAt }, { 'content-type': 'application/merge-patch+json' })))
    const notScheduled = planned.filter((p) => p.body.status !== 'scheduled')
    if (notScheduled.length > 0) throw new Error(`not scheduled: ${JSON.stringify(notScheduled[0]?.body)}`)
    const ran = await settle(planned.map((p) => p.body.id), Date.parse(effectiveAt) + 120_000)
    const startedLate = ran.map((v) => Date.parse(v.transitions.find((x) => x.status === 'accepted')?.at ?? '') - Date.parse(effectiveAt))
    const completedLate = ran.map((v) => terminalAt(v) - Date.parse(effectiveAt))

    const stats = (runs: typeof calm) => {
      const latencies = runs.map((r) => terminalAt(r.view) - Date.parse(r.view.createdAt))
      const inactive = runs.map((r) => inactiveAt(r.view) - Date.parse(r.view.createdAt))
      const completed = runs.filter((r) => r.view.status === 'completed').length
      return `${completed}/${runs.length} completed; request→inactive in Genesys p50 ${(median(inactive) / 1000).toFixed(2)} s, p95 ${(percentile(inactive, 95) / 1000).toFixed(2)} s; request→completed p50 ${(median(latencies) / 1000).toFixed(2)} s, p95 ${(percentile(latencies, 95) / 1000).toFixed(2)} s, max ${(Math.max(...latencies) / 1000).toFixed(2)} s; answered p50 ${(median(runs.map((r) => r.waitedMs)) / 1000).toFixed(2)} s; upstream calls while it ran: median ${median(runs.map((r) => r.calls))}`
    }
    const counters = sim.counters()
    console.log([
      `lifecycle (${new Date().toISOString().slice(0, 10)}, ${machine()}; simulator ${LATENCY} ± ${LATENCY / 5} ms, limit ${LIMIT}/min = budget; one role, one group per worker)`,
      `  hired ${hiredOk}/${total} workers through PUT /v1/workers/{hrId}`,
      `  terminations, no backlog (${quiet}, one at a time): ${stats(calm)}`,
      `  terminations behind ${backlog} hires posted just before (${during}): ${stats(busy)}; the hires: ${drained.filter((v) => v.status === 'completed').length}/${backlog} completed`,
      `  terminations scheduled for one instant (${scheduled}): ${ran.filter((v) => v.status === 'completed').length}/${scheduled} completed; started after effectiveAt p50 ${(median(startedLate) / 1000).toFixed(2)} s, max ${(Math.max(...startedLate) / 1000).toFixed(2)} s; completed after it p50 ${(median(completedLate) / 1000).toFixed(2)} s, p95 ${(percentile(completedLate, 95) / 1000).toFixed(2)} s, max ${(Math.max(...completedLate) / 1000).toFixed(2)} s`,
      `  429s: ${counters.rateLimited}`,
    ].join('\n'))
  } finally {
    await server.stop()
    await redis.stop()
    await sim.close()
  }
}

runBench(main)
