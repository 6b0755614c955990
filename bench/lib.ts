import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, readFile, writeFile } from 'node:fs/promises'
import { cpus, tmpdir, totalmem } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { sha256Hex } from '../src/config/clients.js'
import { createSimulator, defaultSeed, type Simulator } from '../src/simulator/index.js'
import { freePort, startRedis } from '../test/helpers/redis.js'

const SERVER = fileURLToPath(new URL('../src/server.ts', import.meta.url))

export const BENCH_KEY = 'gpk_bench_0123456789abcdefghijklmnopqrstuvwxyz'

/** A clients file with one all-divisions client whose key is BENCH_KEY. */
export async function benchClientsFile (): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'prov-bench-'))
  const file = join(dir, 'clients.json')
  await writeFile(file, JSON.stringify({
    clients: [{ id: 'bench', name: 'Benchmark', keySha256: sha256Hex(BENCH_KEY), scopes: ['provisioning:write', 'provisioning:read'], divisions: '*' }],
  }))
  return file
}

/** The environment of a service (ROLE=all, Redis) talking to a simulator with a per-minute budget. */
export function fleetEnv (opts: { sim: { url: string, credentials: { clientId: string, clientSecret: string } }, redisUrl: string, clientsFile: string, limit: number }): Record<string, string> {
  return {
    ROLE: 'all',
    REDIS_URL: opts.redisUrl,
    CLIENTS_FILE: opts.clientsFile,
    GENESYS_API_URL: opts.sim.url,
    GENESYS_LOGIN_URL: opts.sim.url,
    GENESYS_CLIENT_ID: opts.sim.credentials.clientId,
    GENESYS_CLIENT_SECRET: opts.sim.credentials.clientSecret,
    GENESYS_RATE_LIMIT_PER_MINUTE: String(opts.limit),
    WORKER_CONCURRENCY: '32',
  }
}

export interface ServiceProcess {
  url: string
  child: ChildProcess
  stop (): Promise<void>
}

/** The real server as its own process on a free loopback port (bounded start). */
export async function startServer (env: Record<string, string>): Promise<ServiceProcess> {
  const port = await freePort()
  const child = spawn(process.execPath, ['--import', 'tsx', SERVER], {
    // The benchmarks measure the service, not its request rate limits.
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'warn', RECONCILE_INTERVAL_MINUTES: '0', RATE_LIMIT_PER_MINUTE: '1000000', RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE: '1000000', ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'ignore', 'inherit'],
  })
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 30_000
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`)
    if (await fetch(`${url}/health/live`).then((r) => r.ok, () => false)) break
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  return {
    url,
    child,
    stop: () => new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve()
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000)
      child.once('exit', () => { clearTimeout(killer); resolve() })
      child.kill('SIGTERM')
    }),
  }
}

/**
 * `replicas` service processes (ROLE=all) on one Redis with AOF, talking to
 * the simulator with a per-minute limit equal to the service's budget; `run`
 * gets them, and everything is stopped afterwards, whatever happens.
 */
export async function withFleet<T> (opts: { replicas: number, limit: number, latencyMs: number, clientsFile: string, env?: Record<string, string>, simLimit?: number }, run: (fleet: { sim: Simulator, servers: ServiceProcess[] }) => Promise<T>): Promise<T> {
  const sim = await createSimulator({ seed: defaultSeed(), rateLimitPerMinute: opts.simLimit ?? opts.limit, faults: { latencyMs: opts.latencyMs, jitterMs: opts.latencyMs / 5 } })
  const redis = await startRedis({ appendonly: true })
  const env = { ...fleetEnv({ sim, redisUrl: redis.url, clientsFile: opts.clientsFile, limit: opts.limit }), ...opts.env }
  const servers = await Promise.all(Array.from({ length: opts.replicas }, () => startServer(env)))
  try {
    return await run({ sim, servers })
  } finally {
    await Promise.all(servers.map((s) => s.stop()))
    await redis.stop()
    await sim.close()
  }
}

/** Resident set size of a process in MiB (Linux /proc), or NaN when unreadable. */
export async function rssMiB (pid: number | undefined): Promise<number> {
  if (pid === undefined) return Number.NaN
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8')
    const kb = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1]
    return kb === undefined ? Number.NaN : Number(kb) / 1024
  } catch {
    return Number.NaN
  }
}

export function machine (): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU'
  return `${cpus().length} × ${cpu}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`
}

export function percentile (values: number[], p: number): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN
}

export function median (values: number[]): number {
  return percentile(values, 50)
}

/** Runs a benchmark's main: an error is printed and the process exits 1. */
export function runBench (main: () => Promise<void>): void {
  main().catch((err: unknown) => {
    console.error(err)
    process.exit(1)
  })
}
