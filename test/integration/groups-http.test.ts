import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { sha256Hex } from '../../src/config/clients.js'
import { createSimulator } from '../../src/simulator/index.js'
import { startReceiver, verifyWith } from '../helpers/receiver.js'
import { redisBinary, startRedis } from '../helpers/redis.js'
import { simulatorEnv } from '../helpers/genesys.js'
import { startService } from '../helpers/service.js'

/** Group mappings and syncs through the real service (Redis stores), with two BPO tenants. */
t.setTimeout(120_000)

const KEY_A = 'gpk_bpo_alpha_key_0123456789abcdefghijklmnopq'
const KEY_B = 'gpk_bpo_beta_key_0123456789abcdefghijklmnopqr'
const SECRET = 'whsec_' + Buffer.from('groups test webhook secret, 32 b').toString('base64')
const PATH = encodeURIComponent('Operations/Customer Care/Tier 1')

t.test('mappings, syncs and their webhook over HTTP; every cross-division attempt refused', { skip: redisBinary.skip }, async (t) => {
  const sim = await createSimulator({ rateLimitPerMinute: 100_000 })
  t.teardown(() => sim.close())
  const redis = await startRedis({ appendonly: true })
  t.teardown(() => redis.stop())
  const receiver = await startReceiver()
  t.teardown(() => receiver.close())
  const dir = await mkdtemp(join(tmpdir(), 'prov-groups-'))
  const clientsFile = join(dir, 'clients.json')
  const scopes = ['provisioning:write', 'provisioning:read', 'groups:write']
  await writeFile(clientsFile, JSON.stringify({
    clients: [
      { id: 'bpo-a', name: 'BPO A', keySha256: sha256Hex(KEY_A), scopes, divisions: ['BPO Alpha'], webhook: { url: receiver.url, secrets: [SECRET], events: ['group.sync.completed'] } },
      { id: 'bpo-b', name: 'BPO B', keySha256: sha256Hex(KEY_B), scopes, divisions: ['BPO Beta'] },
    ],
  }))
  const svc = await startService({
    REDIS_URL: redis.url, CLIENTS_FILE: clientsFile, WEBHOOK_ALLOWED_NETWORKS: '127.0.0.1/32', ...simulatorEnv(sim),
  })
  t.teardown(() => svc.stop())
  const call = async (key: string, method: string, path: string, body?: unknown, extra: Record<string, string> = {}) => {
    const res = await fetch(`${svc.url}${path}`, { method, headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...extra }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) })
    const text = await res.text()
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as Record<string, unknown> }
  }

  const put = await call(KEY_A, 'PUT', `/v1/group-mappings/${PATH}`, { genesysGroup: 'Tier 1 Agents', queues: ['Support'], create: true })
  t.equal(put.status, 201, JSON.stringify(put.body))
  t.match(put.body, { hrGroupPath: 'Operations/Customer Care/Tier 1', division: 'BPO Alpha', genesysGroup: { name: 'Tier 1 Agents' } })
  t.equal((await call(KEY_A, 'GET', `/v1/group-mappings/${PATH}`)).status, 200)
  t.equal(((await call(KEY_A, 'GET', '/v1/group-mappings')).body.items as unknown[]).length, 1)

  const hire = await call(KEY_A, 'POST', '/v1/provisioning-requests', { hrId: 'A-1', email: 'alpha.one@example.com', givenName: 'Alpha', familyName: 'One', division: 'BPO Alpha', groups: ['Operations/Customer Care/Tier 1'] }, { prefer: 'wait=20' })
  t.equal(hire.status, 201, 'the hire joined the mapped group')
  const sync = await call(KEY_A, 'PATCH', `/v1/groups/${PATH}/members`, { add: ['A-1', 'NOT-HIRED'] })
  t.equal(sync.status, 202, JSON.stringify(sync.body))
  let state: Record<string, unknown> = {}
  for (let i = 0; i < 100 && !['completed', 'failed', 'needs-confirmation'].includes(String(state.status)); i++) {
    await new Promise((resolve) => setTimeout(resolve, 100))
    state = (await call(KEY_A, 'GET', `/v1/group-syncs/${String(sync.body.id)}`)).body
  }
  t.equal(state.status, 'completed', JSON.stringify(state))
  t.same((state.result as { unknownHrIds: string[] }).unknownHrIds, ['NOT-HIRED'])
  await receiver.waitFor(1)
  const event = verifyWith(SECRET, receiver.received[0] ?? { headers: {}, body: '', at: 0 }) as { type: string, data: { syncId: string, status: string } }
  t.match(event, { type: 'group.sync.completed', data: { syncId: sync.body.id, status: 'completed' } })

  // Client B, limited to BPO Beta: every attempt on BPO Alpha's mapping is refused, and nothing reaches Genesys.
  const writes = () => sim.requests().filter((r) => r.method !== 'GET' && r.path !== '/oauth/token').length
  const before = writes()
  const matrix: Array<[string, string, unknown, number]> = [
    ['GET', `/v1/group-mappings/${PATH}`, undefined, 404],
    ['PUT', `/v1/group-mappings/${PATH}`, { genesysGroup: 'Billing', queues: [] }, 403],
    ['DELETE', `/v1/group-mappings/${PATH}`, undefined, 403],
    ['PUT', `/v1/groups/${PATH}/members`, { members: [] }, 403],
    ['PATCH', `/v1/groups/${PATH}/members`, { remove: ['A-1'] }, 403],
    ['GET', `/v1/group-syncs/${String(sync.body.id)}`, undefined, 404],
    ['PUT', `/v1/group-mappings/${encodeURIComponent('Ops/New')}`, { genesysGroup: 'Billing', queues: [], division: 'BPO Alpha' }, 403],
    ['PUT', `/v1/group-mappings/${encodeURIComponent('Ops/Beta')}`, { genesysGroup: 'Billing', queues: ['Support'] }, 422],
    ['POST', '/v1/provisioning-requests', { hrId: 'B-1', email: 'beta.one@example.com', division: 'BPO Alpha' }, 422],
    ['GET', `/v1/provisioning-requests/${String(hire.body.id)}`, undefined, 404],
  ]
  for (const [method, path, body, want] of matrix) {
    t.equal((await call(KEY_B, method, path, body)).status, want, `B: ${method} ${decodeURIComponent(path)}`)
  }
  t.same((await call(KEY_B, 'GET', '/v1/group-mappings')).body.items, [], "B's list holds none of A's mappings")
  t.equal(writes(), before, 'the simulator saw no write from client B')
})
