import { randomBytes } from 'node:crypto'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import t, { type Test } from 'tap'
import { sha256Hex } from '../../src/config/clients.js'
import { createSimulator, defaultSeed } from '../../src/simulator/index.js'
import { startReceiver, verifyWith, type Received, type Reply } from '../helpers/receiver.js'
import { redisBinary, startRedis, type TestRedis } from '../helpers/redis.js'
import { simulatorEnv } from '../helpers/genesys.js'
import { startService, type RunningService } from '../helpers/service.js'

/**
 * Webhooks through the real service processes: Redis (AOF), a simulator over
 * HTTP, and a loopback HRIS receiver that verifies every signature with the
 * independent Standard Webhooks library.
 */
t.setTimeout(300_000)

const CANARY = `cnry${randomBytes(6).toString('hex')}`
const KEY = `gpk_${CANARY}_0123456789abcdefghijklmnopq`
const SECRET = `whsec_${CANARY}${'A'.repeat(32 - CANARY.length)}`
const SIM_SECRET = `sim-secret-${CANARY}`

interface Seen { what: string, text: string }

async function setup (t: Test, opts: { script?: (n: number, r: Received) => Reply, env?: Record<string, string>, roles?: Array<'all' | 'api' | 'worker'> } = {}) {
  const seed = defaultSeed()
  const first = seed.clients[0]
  if (first) first.clientSecret = SIM_SECRET
  const sim = await createSimulator({ seed, rateLimitPerMinute: 100_000, mintToken: () => `tok.${CANARY}.${randomBytes(24).toString('hex')}` })
  t.teardown(() => sim.close())
  const redis = await startRedis({ appendonly: true })
  t.teardown(() => redis.stop())
  const receiver = await startReceiver(opts.script)
  t.teardown(() => receiver.close())
  const dir = await mkdtemp(join(tmpdir(), 'prov-webhooks-'))
  const clientsFile = join(dir, 'clients.json')
  await writeFile(clientsFile, JSON.stringify({
    clients: [
      { id: 'hris', name: 'HRIS', keySha256: sha256Hex(KEY), scopes: ['provisioning:write', 'provisioning:read'], divisions: '*', webhook: { url: receiver.url, secrets: [SECRET] } },
      { id: 'other', name: 'Other', keySha256: sha256Hex('gpk_other_client_key_0123456789abcdefghij'), scopes: ['provisioning:write', 'provisioning:read'], divisions: '*' },
    ],
  }))
  const env = {
    REDIS_URL: redis.url,
    CLIENTS_FILE: clientsFile,
    ...simulatorEnv(sim, SIM_SECRET),
    WEBHOOK_ALLOWED_NETWORKS: '127.0.0.1/32',
    WEBHOOK_RETRY_SCHEDULE: '200ms,200ms,200ms,200ms',
    JOB_LOCK_MS: '2000',
    JOB_MAX_ATTEMPTS: '2',
    SHUTDOWN_GRACE_MS: '2000',
    LOG_LEVEL: 'debug',
    ...opts.env,
  }
  const services: RunningService[] = []
  t.teardown(() => Promise.all(services.map((s) => s.stop('SIGKILL'))))
  const start = async (role: 'all' | 'api' | 'worker') => {
    const s = await startService({ ...env, ROLE: role })
    services.push(s)
    return s
  }
  const started = await Promise.all((opts.roles ?? ['all']).map(start))
  const api = started[0] as RunningService
  const seen: Seen[] = []
  async function call (method: string, path: string, body?: unknown, extra: Record<string, string> = {}) {
    const res = await fetch(`${api.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${KEY}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...extra },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    })
    const text = await res.text()
    seen.push({ what: `${method} ${path} → ${res.status}`, text: `${JSON.stringify([...res.headers])}\n${text}` })
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as Record<string, unknown> & { id?: string, status?: string } }
  }
  return { sim, redis, receiver, api, started, services, start, call, seen }
}

const hire = (n: number, over: Record<string, unknown> = {}) => ({
  hrId: `W-${n}`, email: `webhook.${n}@example.com`, givenName: 'Hook', familyName: `Hire ${n}`, division: 'BPO Alpha', roles: ['Agent'], groups: ['Operations/Customer Care/Support'], ...over,
})

async function until<T> (what: string, fn: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await fn()
    if (v !== undefined) return v
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

type Event = { type: string, timestamp: string, data: Record<string, unknown> }
const eventsOf = (received: Received[]) => received.map((r) => verifyWith(SECRET, r) as Event)

/** Every key and value in Redis as text (strings, hashes, lists, sets, sorted sets, streams). */
async function dumpRedis (redis: TestRedis): Promise<string> {
  const conn = new Redis(redis.url)
  try {
    const out: string[] = []
    let cursor = '0'
    do {
      const [next, keys] = await conn.scan(cursor, 'COUNT', 500)
      cursor = next
      for (const key of keys) {
        const type = await conn.type(key)
        const value = type === 'string'
          ? await conn.get(key)
          : type === 'hash'
            ? await conn.hgetall(key)
            : type === 'list'
              ? await conn.lrange(key, 0, -1)
              : type === 'set'
                ? await conn.smembers(key)
                : type === 'zset'
                  ? await conn.zrange(key, 0, -1, 'WITHSCORES')
                  : type === 'stream' ? await conn.xrange(key, '-', '+') : null
        out.push(`${key} ${JSON.stringify(value)}`)
      }
    } while (cursor !== '0')
    return out.join('\n')
  } finally {
    conn.disconnect()
  }
}

t.test('every outcome is posted, signed, retried and visible; no secret reaches a webhook, a response, a log or Redis', { skip: redisBinary.skip }, async (t) => {
  // The first attempt of every event fails once: deliveries go through a retry.
  const failedOnce = new Set<string>()
  const w = await setup(t, {
    script: (_n, r) => {
      const id = String(r.headers['webhook-id'])
      if (failedOnce.has(id)) return { status: 204 }
      failedOnce.add(id)
      return { status: 503 }
    },
  })

  // completed
  const done = await w.call('POST', '/v1/provisioning-requests', hire(1), { prefer: 'wait=20' })
  t.equal(done.status, 201, JSON.stringify(done.body))
  // rejected upstream (unknown role), refused at intake (schema, with a password-like field), failed upstream (5xx)
  const rejected = await w.call('POST', '/v1/provisioning-requests', hire(2, { roles: ['Astronaut'] }), { prefer: 'wait=20' })
  t.equal(rejected.body.status, 'rejected')
  const refused = await w.call('POST', '/v1/provisioning-requests', { ...hire(3), password: CANARY })
  t.equal(refused.status, 400)
  const dry = await w.call('POST', '/v1/provisioning-requests?dryRun=true', hire(4))
  t.equal(dry.status, 200)
  await fetch(`${w.sim.url}/__sim/faults`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ rate5xx: 1, match: '^POST .*/scim/v2/users$' }) })
  const failed = await w.call('POST', '/v1/provisioning-requests', hire(5), { prefer: 'wait=25' })
  t.equal(failed.body.status, 'failed', JSON.stringify(failed.body))
  // An upstream 4xx: Genesys answers 429 to the create for a while, then recovers.
  await fetch(`${w.sim.url}/__sim/faults`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ rate5xx: 0, rate429: 1, match: '^POST .*/scim/v2/users$' }) })
  const throttled = await w.call('POST', '/v1/provisioning-requests', hire(6))
  t.equal(throttled.status, 202)
  await until('the create to meet a 429', async () => (w.sim.requests().some((r) => r.status === 429) ? true : undefined))
  await fetch(`${w.sim.url}/__sim/faults`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ rate429: 0, match: null }) })

  // Four events, each attempted twice (503, then 204).
  await w.receiver.waitFor(8)
  const events = eventsOf(w.receiver.received)
  const byType = new Map(events.map((e) => [e.type, e]))
  t.same([...byType.keys()].sort(), ['provisioning.completed', 'provisioning.failed', 'provisioning.rejected'])
  t.ok(events.some((e) => e.type === 'provisioning.completed' && e.data.requestId === throttled.body.id), 'the throttled hire completed once Genesys recovered')
  const completed = events.find((e) => e.type === 'provisioning.completed' && e.data.requestId === done.body.id)
  t.match(completed?.data, { requestId: done.body.id, hrId: 'W-1', email: 'webhook.1@example.com', genesysUserId: done.body.genesysUserId, division: 'BPO Alpha' })
  t.match(completed?.data.roles, [{ name: 'Agent' }])
  t.match(completed?.data.groups, [{ hrPath: 'Operations/Customer Care/Support', genesysGroup: 'Support' }])
  t.type(completed?.data.durationMs, 'number')
  t.match(byType.get('provisioning.rejected')?.data, { requestId: rejected.body.id, issues: [{ code: 'role.notFound' }] })
  t.match(byType.get('provisioning.failed')?.data, { requestId: failed.body.id, error: { code: String, correlationId: String } })
  const ids = new Map<string, Set<string>>()
  for (const r of w.receiver.received) {
    const type = (JSON.parse(r.body) as Event).type
    ids.set(type, (ids.get(type) ?? new Set()).add(String(r.headers['webhook-id'])))
  }
  for (const [type, set] of ids) t.equal(set.size, type === 'provisioning.completed' ? 2 : 1, `${type}: one webhook-id per event across its attempts`)
  for (const r of w.receiver.received) t.ok(Buffer.byteLength(r.body) < 20_000, 'bodies stay under 20 KB')

  // The request resource shows its webhook; deliveries are listed with attempts.
  const shown = await until('the completed webhook to show as delivered', async () => {
    const r = await w.call('GET', `/v1/provisioning-requests/${done.body.id}`)
    const hook = r.body.webhook as { status: string } | undefined
    return hook?.status === 'delivered' ? hook : undefined
  })
  t.match(shown, { deliveryId: String, status: 'delivered', attempts: 2, lastStatusCode: 204 })
  const list = await w.call('GET', `/v1/webhook-deliveries?requestId=${done.body.id}`)
  const items = list.body.items as Array<{ id: string, attempts: Array<{ statusCode?: number }>, payload: Event }>
  t.equal(items.length, 1)
  t.same(items[0]?.attempts.map((a) => a.statusCode), [503, 204])
  t.equal(items[0]?.payload.type, 'provisioning.completed')

  // Replay: the same webhook-id, a new timestamp and signature.
  const before = w.receiver.received.length
  const replay = await w.call('POST', `/v1/webhook-deliveries/${items[0]?.id}/redeliver`)
  t.equal(replay.status, 202)
  await w.receiver.waitFor(before + 1)
  const again = w.receiver.received.at(-1) as Received
  t.equal(again.headers['webhook-id'], items[0]?.id)
  t.same(verifyWith(SECRET, again), JSON.parse(again.body))

  // The endpoint shows fingerprints, not secrets; another client sees nothing of ours.
  const endpoint = await w.call('GET', '/v1/webhook-endpoint')
  t.match(endpoint.body, { status: 'enabled', secrets: [{ fingerprint: /^sha256:[0-9a-f]{16}$/ }] })
  const other = { authorization: 'Bearer gpk_other_client_key_0123456789abcdefghij' }
  t.equal((await fetch(`${w.api.url}/v1/webhook-deliveries/${items[0]?.id}`, { headers: other })).status, 404)
  t.equal((await fetch(`${w.api.url}/v1/webhook-deliveries/${items[0]?.id}/redeliver`, { method: 'POST', headers: other })).status, 404)
  t.equal((await fetch(`${w.api.url}/v1/webhook-endpoint`, { headers: other })).status, 404, 'a client without an endpoint')
  const otherList = await (await fetch(`${w.api.url}/v1/webhook-deliveries`, { headers: other })).json() as { items: unknown[] }
  t.same(otherList.items, [])

  // The canary: in the API key, the webhook secret, the Genesys client secret,
  // every access token and a password-like field. It appears nowhere.
  t.ok(w.sim.requests().some((r) => r.path === '/oauth/token'), 'a token was minted with the canary in it')
  const places: Array<[string, string]> = [
    ['webhook bodies and headers', w.receiver.received.map((r) => JSON.stringify(r.headers) + r.body).join('\n')],
    ['API responses', w.seen.map((s) => `${s.what}\n${s.text}`).join('\n')],
    ['service logs', w.services.map((s) => s.output()).join('\n')],
    ['Redis keys and values', await dumpRedis(w.redis)],
  ]
  for (const [where, text] of places) {
    t.ok(text.length > 0, `${where}: captured`)
    t.notOk(text.includes(CANARY), `${where}: no canary`)
  }
  t.ok(w.services.map((s) => s.output()).join('\n').includes('webhook delivered'), 'the logs did record deliveries')
})

t.test('a worker killed after the receiver got the request: delivered again with the same webhook-id, at most twice', { skip: redisBinary.skip }, async (t) => {
  let arrived: (() => void) | undefined
  const first = new Promise<void>((resolve) => { arrived = resolve })
  const w = await setup(t, {
    roles: ['api', 'worker'],
    script: (n) => {
      if (n === 1) {
        arrived?.()
        return 'hang'
      }
      return { status: 204 }
    },
  })
  const res = await w.call('POST', '/v1/provisioning-requests', hire(10))
  t.equal(res.status, 202)
  await first
  const worker = w.started[1] as RunningService
  await worker.stop('SIGKILL')
  await w.start('worker')
  await w.receiver.waitFor(2, 30_000)
  await new Promise((resolve) => setTimeout(resolve, 3000)) // room for a wrongful third
  t.equal(w.receiver.received.length, 2, 'exactly two POSTs')
  t.same(new Set(w.receiver.received.map((r) => r.headers['webhook-id'])).size, 1, 'one webhook-id')
  for (const r of w.receiver.received) t.equal((verifyWith(SECRET, r) as Event).type, 'provisioning.completed')
  const shown = await until('delivered', async () => {
    const r = await w.call('GET', `/v1/provisioning-requests/${res.body.id}`)
    return (r.body.webhook as { status?: string } | undefined)?.status === 'delivered' ? r.body.webhook : undefined
  })
  t.ok(shown)
})

t.test('no event is lost across a Redis crash and restart (AOF)', { skip: redisBinary.skip }, async (t) => {
  let up = false
  const w = await setup(t, {
    env: { WEBHOOK_RETRY_SCHEDULE: '300ms,1s,2s,2s,2s,2s,2s,2s,2s,2s,2s,2s' },
    script: () => (up ? { status: 204 } : { status: 503 }),
  })
  const ids: string[] = []
  for (let n = 20; n < 25; n++) {
    const r = await w.call('POST', '/v1/provisioning-requests', hire(n), { prefer: 'wait=20' })
    t.equal(r.body.status, 'completed')
    ids.push(String(r.body.id))
  }
  await w.receiver.waitFor(5)
  await w.redis.kill()
  await new Promise((resolve) => setTimeout(resolve, 500))
  await w.redis.restart()
  up = true
  await until('every event delivered', async () => {
    const hooks = new Set(w.receiver.received.filter((_, i) => i >= 5).map((r) => `${String(r.headers['webhook-id'])}`))
    return hooks.size >= 5 ? true : undefined
  }, 60_000)
  const delivered = new Map<string, string>()
  for (const r of w.receiver.received) {
    const e = verifyWith(SECRET, r) as Event
    delivered.set(String(e.data.requestId), String(r.headers['webhook-id']))
  }
  t.same([...delivered.keys()].sort(), [...ids].sort(), 'one event per request, none lost')
})
