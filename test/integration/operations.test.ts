import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { sha256Hex } from '../../src/config/clients.js'
import { createSimulator, type SimulatorOptions } from '../../src/simulator/index.js'
import { startReceiver } from '../helpers/receiver.js'
import { redisBinary, startRedis } from '../helpers/redis.js'
import { simulatorEnv } from '../helpers/genesys.js'
import { startService, type RunningService } from '../helpers/service.js'

/**
 * What operators rely on, through real processes: /metrics after a provisioning
 * run, the queue dashboard behind the admin scope, readiness, and SIGTERM.
 */
t.setTimeout(300_000)

const ADMIN = 'gpk_ops_admin_key_0123456789abcdefghijklmnopq'
const WRITER = 'gpk_ops_writer_key_0123456789abcdefghijklmnop'
const SECRET = 'whsec_' + Buffer.from('operations test secret, 32 bytes').toString('base64')

async function stack (t: Test, opts: { redis?: boolean, sim?: SimulatorOptions, env?: Record<string, string> } = {}) {
  const sim = await createSimulator({ rateLimitPerMinute: 100_000, ...opts.sim })
  t.teardown(() => sim.close())
  const receiver = await startReceiver()
  t.teardown(() => receiver.close())
  const dir = await mkdtemp(join(tmpdir(), 'prov-ops-'))
  const clientsFile = join(dir, 'clients.json')
  await writeFile(clientsFile, JSON.stringify({
    clients: [
      { id: 'ops', name: 'Operators', keySha256: sha256Hex(ADMIN), scopes: ['admin'], divisions: '*' },
      { id: 'hris', name: 'HRIS', keySha256: sha256Hex(WRITER), scopes: ['provisioning:write', 'provisioning:read'], divisions: '*', webhook: { url: receiver.url, secrets: [SECRET] } },
    ],
  }))
  const env: Record<string, string> = {
    CLIENTS_FILE: clientsFile,
    ...simulatorEnv(sim),
    WEBHOOK_ALLOWED_NETWORKS: '127.0.0.1/32',
    JOB_LOCK_MS: '2000',
    ...opts.env,
  }
  if (opts.redis) {
    const redis = await startRedis({ appendonly: true })
    t.teardown(() => redis.stop())
    env.REDIS_URL = redis.url
  }
  const services: RunningService[] = []
  t.teardown(() => Promise.all(services.map((s) => s.stop('SIGKILL'))))
  const start = async (role: 'all' | 'api' | 'worker', extra: Record<string, string> = {}) => {
    const s = await startService({ ...env, ROLE: role, ...extra })
    services.push(s)
    return s
  }
  return { sim, receiver, start }
}

const hire = (n: number, over: Record<string, unknown> = {}) => ({
  hrId: `OPS-${n}`, email: `ops.${n}@example.com`, givenName: 'Ops', familyName: `Hire ${n}`, division: 'BPO Alpha', roles: ['Agent'], groups: ['Operations/Customer Care/Support'], ...over,
})

async function post (s: RunningService, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${s.url}/v1/provisioning-requests`, { method: 'POST', headers: { authorization: `Bearer ${WRITER}`, 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) })
  return { status: res.status, body: await res.json() as { id: string, status: string } }
}

/** The value of one series in Prometheus text format, or undefined. */
function series (text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$/.exec(line)
    if (!m || m[1] !== name) continue
    const got = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]))
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(m[3])
  }
  return undefined
}

t.test('/metrics after a provisioning run: outcomes, upstream calls, token, queues, webhooks, HTTP', async (t) => {
  const { start, receiver } = await stack(t)
  const s = await start('all')
  for (const n of [1, 2]) t.equal((await post(s, hire(n), { prefer: 'wait=20' })).status, 201)
  t.equal((await post(s, hire(3, { roles: ['Astronaut'] }), { prefer: 'wait=20' })).body.status, 'rejected')
  await receiver.waitFor(3)
  await new Promise((resolve) => setTimeout(resolve, 300))

  t.equal((await fetch(`${s.url}/metrics`)).status, 401, 'no key, no metrics')
  t.equal((await fetch(`${s.url}/metrics`, { headers: { authorization: `Bearer ${WRITER}` } })).status, 403, 'the admin scope is needed')
  const res = await fetch(`${s.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN}` } })
  t.equal(res.status, 200)
  t.match(res.headers.get('content-type'), /^text\/plain; version=0\.0\.4/)
  const text = await res.text()
  t.equal(series(text, 'provisioning_requests_total', { outcome: 'completed' }), 2)
  t.equal(series(text, 'provisioning_requests_total', { outcome: 'rejected' }), 1)
  t.equal(series(text, 'provisioning_rejection_issues_total', { code: 'role.notFound' }), 1)
  t.equal(series(text, 'provisioning_duration_seconds_count', { outcome: 'completed' }), 2)
  t.equal(series(text, 'genesys_requests_total', { operation: 'scim.users.create', status: '201' }), 2, 'two users created upstream')
  t.equal(series(text, 'genesys_request_duration_seconds_count', { operation: 'scim.users.create' }), 2)
  t.equal(series(text, 'genesys_token_fetches_total'), 1, 'one token for the run')
  t.ok((series(text, 'genesys_token_cache_total', { result: 'hit' }) ?? 0) > 5, 'later calls hit the cache')
  t.ok((series(text, 'genesys_rate_budget_wait_seconds_count') ?? 0) > 5, 'every call went through the budget')
  t.equal(series(text, 'queue_jobs', { queue: 'provisioning', state: 'waiting' }), 0)
  t.equal(series(text, 'queue_jobs', { queue: 'webhooks', state: 'failed' }), 0)
  t.equal(series(text, 'webhook_deliveries_total', { outcome: 'delivered' }), 3)
  t.equal(series(text, 'webhook_delivery_attempts_total', { result: '2xx', attempt: '1' }), 3)
  t.equal(series(text, 'http_request_duration_seconds_count', { method: 'POST', route: '/v1/provisioning-requests', status_code: '201' }), 2)
  t.equal(series(text, 'http_request_duration_seconds_count', { method: 'GET', route: '/metrics', status_code: '401' }), 1)
  t.ok(series(text, 'process_resident_memory_bytes'), 'process metrics')
  t.notOk(/@example\.com|prq_|OPS-\d/.test(text), 'no email, request id or HR id in any label')
})

t.test('with Redis: the queue dashboard behind the admin scope, readiness per check', { skip: redisBinary.skip }, async (t) => {
  const { start } = await stack(t, { redis: true })
  const s = await start('all')
  const none = await fetch(`${s.url}/admin/queues`)
  t.equal(none.status, 401)
  t.match(none.headers.get('www-authenticate'), /^Basic realm=/, 'a browser gets a login prompt')
  const basic = (key: string) => ({ authorization: `Basic ${Buffer.from(`ops:${key}`).toString('base64')}` })
  t.equal((await fetch(`${s.url}/admin/queues`, { headers: basic(WRITER) })).status, 403, 'a key without admin')
  const page = await fetch(`${s.url}/admin/queues`, { headers: basic(ADMIN) })
  t.equal(page.status, 200)
  t.match(page.headers.get('content-type'), /text\/html/)
  const api = await fetch(`${s.url}/admin/queues/api/queues`, { headers: { authorization: `Bearer ${ADMIN}` } })
  t.equal(api.status, 200)
  const listed = ((await api.json()) as { queues: Array<{ name: string, description?: string }> }).queues
  t.same(listed.map((q) => q.name).sort(), ['group-sync', 'import', 'provisioning', 'reconcile', 'webhooks'])
  t.match(listed.find((q) => q.name === 'provisioning')?.description, /Genesys calls in the last 60 s from this replica, per OAuth client .*: _default \d+/, 'the dashboard shows the budget use per OAuth client')
  const doc = await (await fetch(`${s.url}/openapi.json`)).text()
  t.notOk(doc.includes('/admin/queues'), 'the dashboard is not part of the API document')

  const ready = await fetch(`${s.url}/health/ready`)
  t.equal(ready.status, 200)
  const body = await ready.json() as { checks: Record<string, { status: string, detail?: string }> }
  t.same(Object.keys(body.checks).sort(), ['genesys', 'redis', 'workers'])
  t.match(body.checks.redis?.detail, /noeviction, appendonly yes/)
})

t.test('SIGTERM mid-job: in-flight work finishes, nothing is lost', { skip: redisBinary.skip }, async (t) => {
  // Every upstream call takes 400 ms: a hire is a few seconds of work.
  const { start, sim } = await stack(t, { redis: true, sim: { faults: { latencyMs: 400 } }, env: { SHUTDOWN_GRACE_MS: '15000', LOG_LEVEL: 'info' } })
  const [api, worker] = await Promise.all([start('api'), start('worker')])
  const ids: string[] = []
  for (let n = 10; n < 14; n++) ids.push((await post(api, hire(n))).body.id)
  // Wait until the worker is mid-way (a user exists upstream), then ask it to stop.
  const deadline = Date.now() + 20_000
  while (![...sim.state.users.values()].some((u) => (u.externalId ?? '').startsWith('hris:OPS-1')) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  // A request the api is still answering (Prefer: wait) when SIGTERM arrives:
  // it is in flight once the worker, which only hears of accepted requests,
  // looks up its email upstream.
  const waiting = post(api, hire(14), { prefer: 'wait=10' })
  const seen = Date.now() + 20_000
  while (!sim.requests().some((r) => decodeURIComponent(r.query ?? '').includes('ops.14@example.com')) && Date.now() < seen) {
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  const apiStopped = api.stop('SIGTERM')
  const answered = await waiting
  t.ok(answered.status === 201 || answered.status === 202, `a request in flight when the api got SIGTERM still gets its answer (${answered.status})`)
  ids.push(answered.body.id)
  t.equal(await apiStopped, 0, 'the api exits cleanly')
  const code = await worker.stop('SIGTERM')
  t.equal(code, 0, 'the worker exits cleanly within the grace period')
  t.match(worker.output(), /shutting down/)
  t.notMatch(worker.output(), /terminal-state listener failed/, 'jobs finishing during shutdown still hand their webhooks on')

  // A fresh pair picks up whatever the stopped worker had not started.
  const [api2] = await Promise.all([start('api'), start('worker')])
  const states = new Map<string, string>()
  const until = Date.now() + 60_000
  while (Date.now() < until) {
    for (const id of ids) {
      const r = await fetch(`${api2.url}/v1/provisioning-requests/${id}`, { headers: { authorization: `Bearer ${WRITER}` } })
      states.set(id, ((await r.json()) as { status: string }).status)
    }
    if ([...states.values()].every((s) => s === 'completed')) break
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
  t.same([...states.values()], ids.map(() => 'completed'), 'every request completed')
  const users = [...sim.state.users.values()].filter((u) => u.state !== 'deleted' && (u.externalId ?? '').startsWith('hris:OPS-1'))
  t.equal(users.length, 5, 'exactly one user per hire')
})
