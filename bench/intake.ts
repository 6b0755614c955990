/**
 * Intake throughput: POST /v1/provisioning-requests (unique Idempotency-Key and
 * hrId per request) on an api-only process with Redis (no worker), against a
 * bare Fastify route answering 202, measured two ways: in its own process, as
 * the service runs (the load generator is this script, a third process), and
 * inside this script's process (which shares its CPU with the load generator
 * and so flatters the ratio). Rounds interleaved; medians and ratios reported,
 * since this machine is noisy.
 *
 *   npx tsx bench/intake.ts [--seconds 10] [--connections 50]
 */
import autocannon from 'autocannon'
import Fastify from 'fastify'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { startRedis } from '../test/helpers/redis.js'
import { BENCH_KEY, benchClientsFile, machine, median, rssMiB, startServer } from './lib.js'

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '10' }, connections: { type: 'string', default: '50' }, rounds: { type: 'string', default: '3' } } })
const duration = Number(values.seconds)
const connections = Number(values.connections)
const rounds = Number(values.rounds)

let seq = 0
function newHire (): string {
  seq++
  return JSON.stringify({ hrId: `B${process.pid}-${seq}`, email: `bench.${process.pid}.${seq}@example.com`, givenName: 'Bench', familyName: `Hire ${seq}`, roles: ['Agent'], groups: ['Operations/Support'] })
}

async function run (url: string, path: string, headers: Record<string, string>): Promise<autocannon.Result> {
  return autocannon({
    url: url + path,
    method: 'POST',
    connections,
    duration,
    headers: { 'content-type': 'application/json', ...headers },
    requests: [{
      setupRequest (req) {
        const body = newHire()
        return { ...req, body, headers: { ...req.headers, 'idempotency-key': `bench-${process.pid}-${seq}` } }
      },
    }],
  })
}

/** The bare route as a process of its own, like the service (Fastify resolved from this repository). */
async function startBareProcess (): Promise<{ url: string, stop (): void }> {
  const script = `import Fastify from 'fastify'
const app = Fastify()
app.post('/v1/provisioning-requests', async (_req, reply) => reply.code(202).send({ id: 'prq_x', status: 'accepted' }))
const url = await app.listen({ port: 0, host: '127.0.0.1' })
console.log(url)`
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: fileURLToPath(new URL('..', import.meta.url)), stdio: ['ignore', 'pipe', 'inherit'] })
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.once('data', (d: Buffer) => resolve(d.toString().trim()))
    child.once('exit', (code) => reject(new Error(`the bare server exited with ${code}`)))
  })
  return { url, stop: () => child.kill('SIGTERM') }
}

async function main (): Promise<void> {
  const redis = await startRedis({ appendonly: true })
  const clientsFile = await benchClientsFile()
  const server = await startServer({ ROLE: 'api', REDIS_URL: redis.url, CLIENTS_FILE: clientsFile })

  // The baseline: the same framework doing nothing but answering 202 with a small JSON body.
  const bare = Fastify()
  bare.post('/v1/provisioning-requests', async (_req, reply) => reply.code(202).send({ id: 'prq_x', status: 'accepted' }))
  const bareUrl = await bare.listen({ port: 0, host: '127.0.0.1' })
  const bareProcess = await startBareProcess()

  const svc: autocannon.Result[] = []
  const base: autocannon.Result[] = []
  const own: autocannon.Result[] = []
  const rssIdle = await rssMiB(server.child.pid)
  let rssAfter = Number.NaN
  try {
    for (let i = 0; i < rounds; i++) {
      own.push(await run(bareProcess.url, '/v1/provisioning-requests', {}))
      base.push(await run(bareUrl, '/v1/provisioning-requests', {}))
      svc.push(await run(server.url, '/v1/provisioning-requests', { authorization: `Bearer ${BENCH_KEY}` }))
    }
    rssAfter = await rssMiB(server.child.pid)
  } finally {
    await server.stop()
    await bare.close()
    bareProcess.stop()
    await redis.stop()
  }
  const non2xx = svc.reduce((s, r) => s + r.non2xx + r.errors, 0)
  const rps = (rs: autocannon.Result[]) => median(rs.map((r) => r.requests.average))
  const p99 = (rs: autocannon.Result[]) => median(rs.map((r) => r.latency.p99))
  const p50 = (rs: autocannon.Result[]) => median(rs.map((r) => r.latency.p50))
  const lines = [
    `intake (${new Date().toISOString().slice(0, 10)}, ${machine()}; ${rounds} rounds × ${duration} s, ${connections} connections, Redis with AOF)`,
    `  bare Fastify route, own process       : ${rps(own).toFixed(0)} req/s, p50 ${p50(own)} ms, p99 ${p99(own)} ms`,
    `  bare Fastify route, in the load's one : ${rps(base).toFixed(0)} req/s, p50 ${p50(base)} ms, p99 ${p99(base)} ms`,
    `  POST intake                           : ${rps(svc).toFixed(0)} req/s, p50 ${p50(svc)} ms, p99 ${p99(svc)} ms, non-2xx/errors ${non2xx}`,
    `  ratio intake/bare                     : ${(rps(svc) / rps(own)).toFixed(2)} against its own process, ${(rps(svc) / rps(base)).toFixed(2)} against the shared one; intake rounds: ${svc.map((r) => r.requests.average.toFixed(0)).join(', ')}`,
    `  api process RSS    : ${rssIdle.toFixed(0)} MiB idle, ${rssAfter.toFixed(0)} MiB after ${svc.reduce((n, r) => n + r.requests.total, 0)} intake requests`,
  ]
  console.log(lines.join('\n'))
}

main().catch((err: unknown) => {
  console.error(err)
  process.exit(1)
})
