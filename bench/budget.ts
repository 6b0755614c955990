/**
 * The shared rate budget's throughput: replica processes (the fleet test's
 * fixture: the real token provider, Redis rate budget and Genesys client, no
 * service around them) call the simulator as fast as the budget lets them for
 * a fixed time, against a simulator that answers 429 above the same per-minute
 * limit. Baseline: one replica with the same budget, in the same run,
 * interleaved round by round; a shared budget gives three replicas the same
 * throughput as one (ratio ≈ 1.00), never three times it. Each round has its
 * own Redis and simulator, so no round inherits another's window.
 *
 *   npx tsx bench/budget.ts [--limit 600] [--seconds 15] [--rounds 3] [--replicas 3]
 */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { gcraFor } from '../src/genesys/budget/memory.js'
import { createSimulator } from '../src/simulator/index.js'
import { startRedis } from '../test/helpers/redis.js'
import { machine, median } from './lib.js'

const REPLICA = fileURLToPath(new URL('../test/fixtures/genesys-replica.ts', import.meta.url))

const { values } = parseArgs({ options: { limit: { type: 'string', default: '600' }, seconds: { type: 'string', default: '15' }, rounds: { type: 'string', default: '3' }, replicas: { type: 'string', default: '3' } } })
const limit = Number(values.limit)
const durationMs = Number(values.seconds) * 1000
const rounds = Number(values.rounds)
const fleetSize = Number(values.replicas)

type Result = Record<string, number | string>

function replica (spec: Record<string, unknown>): Promise<Result> {
  const child = spawn(process.execPath, ['--import', 'tsx', REPLICA, JSON.stringify(spec)], { stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  child.stdout.on('data', (d: Buffer) => { out += d.toString() })
  return new Promise((resolve, reject) => {
    child.once('exit', () => {
      const line = out.trim().split('\n').filter((l) => l.startsWith('{')).at(-1)
      if (line) resolve(JSON.parse(line) as Result)
      else reject(new Error(`replica printed no result: ${out}`))
    })
  })
}

/** Calls the simulator answered, and how many the GCRA allows between the first and the last of them. */
interface Round { calls: number, allowed: number, spanMs: number, limited: number, other: number, tokens: number }

const { burst, intervalMs } = gcraFor(limit)

async function round (replicas: number): Promise<Round> {
  const sim = await createSimulator({ rateLimitPerMinute: limit })
  const redis = await startRedis()
  try {
    const spec = { simUrl: sim.url, redisUrl: redis.url, ...sim.credentials, perMinute: limit, mode: 'hammer', durationMs }
    const results = await Promise.all(Array.from({ length: replicas }, () => replica(spec)))
    const sum = (field: string) => results.reduce((n, r) => n + Number(r[field]), 0)
    // The replicas start a little apart, so the fleet's calls span more than
    // one replica's run: judge them against the span the simulator saw.
    const at = sim.requests().filter((r) => r.path !== '/oauth/token').map((r) => Date.parse(r.at)).sort((a, b) => a - b)
    const spanMs = (at.at(-1) ?? 0) - (at[0] ?? 0)
    return { calls: at.length, allowed: Math.floor(burst + spanMs / intervalMs), spanMs, limited: sum('limited'), other: sum('other'), tokens: sim.counters().tokenRequests }
  } finally {
    await redis.stop()
    await sim.close()
  }
}

async function main (): Promise<void> {
  const one: Round[] = []
  const fleet: Round[] = []
  for (let r = 0; r < rounds; r++) {
    one.push(await round(1))
    fleet.push(await round(fleetSize))
  }
  // Calls per minute over the span, and that against what the GCRA allows in it (its burst, then one per interval).
  const rate = (x: Round) => x.calls / (x.spanMs / 60_000)
  const ratio = (x: Round) => x.calls / x.allowed
  const m = (rs: Round[], f: (x: Round) => number) => median(rs.map(f))
  const sumOf = (rs: Round[], k: 'limited' | 'other' | 'tokens') => rs.reduce((n, x) => n + x[k], 0)
  const list = (rs: Round[]) => rs.map((x) => `${x.calls} in ${(x.spanMs / 1000).toFixed(1)} s`).join(', ')
  const line = (rs: Round[]) => `${m(rs, rate).toFixed(1)}/min = ${(m(rs, ratio)).toFixed(3)} × what the GCRA allows (rounds ${list(rs)})`
  console.log([
    `shared budget (${new Date().toISOString().slice(0, 10)}, ${machine()}; limit ${limit}/min, GCRA burst ${burst} then one call per ${intervalMs.toFixed(1)} ms; ${rounds} rounds × ${durationMs / 1000} s, 4 calls in flight per replica, medians)`,
    `  1 replica         : ${line(one)}`,
    `  ${fleetSize} replicas        : ${line(fleet)}`,
    `  ${fleetSize} replicas / 1    : ${(m(fleet, rate) / m(one, rate)).toFixed(3)} × the calls per minute (a budget per replica would give ~${fleetSize})`,
    `  upstream 429s     : ${sumOf(one, 'limited') + sumOf(fleet, 'limited')}; other failures: ${sumOf(one, 'other') + sumOf(fleet, 'other')}; token requests per round: ${[...one, ...fleet].map((x) => x.tokens).join(', ')}`,
  ].join('\n'))
}

main().catch((err: unknown) => {
  console.error(err)
  process.exit(1)
})
