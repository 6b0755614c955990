import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { sha256Hex } from '../../src/config/clients.js'
import { loadConfig } from '../../src/config/load-config.js'
import { createDeps } from '../../src/deps.js'
import { buildApp } from '../../src/http/app.js'
import { captureLogs } from '../helpers/app.js'
import { simAndClient, simulatorEnv } from '../helpers/genesys.js'
import { startRedis } from '../helpers/redis.js'

/**
 * A scheduled termination outlives the service that accepted it: stored in
 * Redis, it is started by the next service on the same Redis when its time
 * comes, by that service's own sweep. The clock is the test's; everything
 * else (Redis, BullMQ, the simulator over HTTP) is real.
 */
t.setTimeout(90_000)

const KEY = 'gpk_scheduled_redis_0123456789abcdefghijklmn'
const DAY = 86_400_000

t.test('scheduled before a restart, run after it within seconds of its time', async (t) => {
  const redis = await startRedis({ appendonly: true })
  t.teardown(() => redis.stop())
  const { sim, close } = await simAndClient({ sim: { rateLimitPerMinute: 100_000 } })
  t.teardown(close)
  const dir = await mkdtemp(join(tmpdir(), 'prov-scheduled-'))
  const clientsFile = join(dir, 'clients.json')
  await writeFile(clientsFile, JSON.stringify({ clients: [{ id: 'hris', name: 'HRIS', keySha256: sha256Hex(KEY), scopes: ['provisioning:write', 'provisioning:read'], divisions: '*' }] }))
  const env = { ...simulatorEnv(sim), CLIENTS_FILE: clientsFile, REDIS_URL: redis.url, WEBHOOK_ALLOWED_NETWORKS: '127.0.0.1/32' }
  let offset = 0
  const clock = { now: () => Date.now() + offset }

  async function serve () {
    const logs = captureLogs()
    const config = loadConfig(env)
    const deps = await createDeps(config, logs.logger, { env, clock })
    const app = await buildApp({ config, deps, logger: logs.logger })
    await app.listen({ port: 0, host: '127.0.0.1' })
    const address = app.server.address()
    const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`
    const call = async (method: string, path: string, body?: unknown, extra: Record<string, string> = {}) => {
      const res = await fetch(`${url}${path}`, { method, headers: { authorization: `Bearer ${KEY}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...extra }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) })
      return { status: res.status, body: (await res.json()) as Record<string, unknown> }
    }
    return { call, stop: async () => { await app.close(); await deps.close() } }
  }

  const first = await serve()
  const hired = await first.call('PUT', '/v1/workers/R-1', { email: 'restart.me@example.com', givenName: 'Re', familyName: 'Start', roles: ['Agent'] }, { prefer: 'wait=20' })
  t.equal(hired.status, 201, JSON.stringify(hired.body))
  const userId = String(hired.body.genesysUserId)
  const effectiveAt = new Date(Date.now() + DAY).toISOString()
  const leaving = await first.call('PATCH', '/v1/workers/R-1', { status: 'terminated', effectiveAt }, { 'content-type': 'application/merge-patch+json' })
  t.match(leaving.body, { status: 'scheduled', kind: 'terminate' })
  await first.stop()

  const second = await serve()
  t.teardown(second.stop)
  t.match((await second.call('GET', '/v1/workers/R-1')).body, { status: 'active', scheduled: [{ id: leaving.body.id, kind: 'terminate' }] }, 'the schedule survived the restart')
  t.equal(sim.state.users.get(userId)?.state, 'active', 'nothing done before its time')

  offset = DAY
  const startedBy = Date.now() + 15_000
  let done: Record<string, unknown> = {}
  while (Date.now() < startedBy) {
    done = (await second.call('GET', `/v1/provisioning-requests/${String(leaving.body.id)}`)).body
    if (done.status === 'completed' || done.status === 'failed') break
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  t.match(done, { status: 'completed', kind: 'terminate' }, JSON.stringify(done.error ?? done.issues))
  const started = (done.transitions as Array<{ status: string, at: string }>).find((x) => x.status === 'accepted')
  const lateMs = Date.parse(started?.at ?? '') - Date.parse(effectiveAt)
  t.ok(lateMs >= 0 && lateMs < 5000, `started ${lateMs} ms after its effective time (the sweep runs every second)`)
  t.equal(sim.state.users.get(userId)?.state, 'inactive', 'deactivated in Genesys')
  t.same((await second.call('GET', '/v1/workers/R-1')).body.scheduled, [])
})
