/**
 * Intake throughput: POST /v1/provisioning-requests (unique Idempotency-Key and
 * hrId per request) on an api-only process with Redis (no worker), against a
 * bare Fastify route in the same script. Three rounds each, interleaved; medians
 * and ratios reported, since this machine is noisy.
 *
 *   npx tsx bench/intake.ts [--seconds 10] [--connections 50]
 */
import autocannon from 'autocannon'
import Fastify from 'fastify'
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

async function main (): Promise<void> {
  const redis = await startRedis({ appendonly: true })
  const clientsFile = await benchClientsFile()
  const server = await startServer({ ROLE: 'api', REDIS_URL: redis.url, CLIENTS_FILE: clientsFile })

  // The baseline: the same framework doing nothing but answering 202 with a small JSON body.
  const bare = Fastify()
  bare.post('/v1/provisioning-requests', async (_req, reply) => reply.code(202).send({ id: 'prq_x', status: 'accepted' }))
  const bareUrl = await bare.listen({ port: 0, host: '127.0.0.1' })

  const svc: autocannon.Result[] = []
  const base: autocannon.Result[] = []
  const rssIdle = await rssMiB(server.child.pid)
  let rssAfter = Number.NaN
  try {
    for (let i = 0; i < rounds; i++) {
      base.push(await run(bareUrl, '/v1/provisioning-requests', {}))
      svc.push(await run(server.url, '/v1/provisioning-requests', { authorization: `Bearer ${BENCH_KEY}` }))
    }
    rssAfter = await rssMiB(server.child.pid)
  } finally {
    await server.stop()
    await bare.close()
    await redis.stop()
  }
  const non2xx = svc.reduce((s, r) => s + r.non2xx + r.errors, 0)
  const rps = (rs: autocannon.Result[]) => median(rs.map((r) => r.requests.average))
  const p99 = (rs: autocannon.Result[]) => median(rs.map((r) => r.latency.p99))
  const p50 = (rs: autocannon.Result[]) => median(rs.map((r) => r.latency.p50))
  const lines = [
    `intake (${new Date().toISOString().slice(0, 10)}, ${machine()}; ${rounds} rounds × ${duration} s, ${connections} connections, Redis with AOF)`,
    `  bare Fastify route : ${rps(base).toFixed(0)} req/s, p50 ${p50(base)} ms, p99 ${p99(base)} ms`,
    `  POST intake        : ${rps(svc).toFixed(0)} req/s, p50 ${p50(svc)} ms, p99 ${p99(svc)} ms, non-2xx/errors ${non2xx}`,
    `  ratio intake/bare  : ${(rps(svc) / rps(base)).toFixed(2)} (throughput), rounds: ${svc.map((r) => r.requests.average.toFixed(0)).join(', ')}`,
    `  api process RSS    : ${rssIdle.toFixed(0)} MiB idle, ${rssAfter.toFixed(0)} MiB after ${svc.reduce((n, r) => n + r.requests.total, 0)} intake requests`,
  ]
  console.log(lines.join('\n'))
}

main().catch((err: unknown) => {
  console.error(err)
  process.exit(1)
})
