import t, { type Test } from 'tap'
import { createClientRegistry, sha256Hex, type ApiClient } from '../../src/config/clients.js'
import type { DryRunResult } from '../../src/provisioning/model.js'
import { createMemoryQueue } from '../../src/jobs/memory-queue.js'
import { staticChecks } from '../../src/provisioning/checks/static-checks.js'
import { createProvisioningService, jobIdFor } from '../../src/provisioning/service.js'
import type { ProvisioningJob } from '../../src/provisioning/worker.js'
import { createMemoryIdempotencyStore, createMemoryRequestStore, createMemoryWorkerRegistry } from '../../src/provisioning/store/memory.js'
import { buildTestApp } from '../helpers/app.js'
import { requestRecord } from '../helpers/records.js'
import { INTAKE_ANSWERS } from '../../src/http/views/provisioning.js'

const KEY_A = 'gpk_intake_a_0123456789abcdefghijklmnopqrstuv'
const KEY_B = 'gpk_intake_b_0123456789abcdefghijklmnopqrstuv'
const KEY_RO = 'gpk_intake_ro_0123456789abcdefghijklmnopqrstu'
const KEY_ADMIN = 'gpk_intake_admin_0123456789abcdefghijklmnopqr'
const CLIENTS: ApiClient[] = [
  { id: 'hris-a', name: 'A', keySha256: sha256Hex(KEY_A), scopes: ['provisioning:write', 'provisioning:read'], divisions: ['BPO Alpha'], roles: ['Agent'] },
  { id: 'hris-b', name: 'B', keySha256: sha256Hex(KEY_B), scopes: ['provisioning:write', 'provisioning:read'], divisions: '*' },
  { id: 'reader', name: 'R', keySha256: sha256Hex(KEY_RO), scopes: ['provisioning:read'], divisions: '*' },
  { id: 'ops', name: 'Operators', keySha256: sha256Hex(KEY_ADMIN), scopes: ['admin'], divisions: '*' },
]

const hire = (over: Record<string, unknown> = {}) => ({ hrId: 'E100', email: 'new.hire@example.com', givenName: 'New', familyName: 'Hire', division: 'BPO Alpha', roles: ['Agent'], ...over })

/** The API with memory stores and a queue nobody consumes: intake only. */
async function setup (t: Test) {
  const requests = createMemoryRequestStore()
  const clock = { now: Date.now }
  const queue = createMemoryQueue<ProvisioningJob>({ maxAttempts: 3 })
  const enqueued: string[] = []
  const dryRuns: unknown[] = []
  const service = createProvisioningService({
    answers: INTAKE_ANSWERS,
    requests,
    registry: createMemoryWorkerRegistry(),
    idempotency: createMemoryIdempotencyStore(clock),
    queue: { enqueue: async (r) => { enqueued.push(jobIdFor(r)); await queue.add(jobIdFor(r), { requestId: r.id }) } },
    clock,
    staticChecks,
    config: { maxGroupDepth: 3, idempotencyTtlHours: 24 },
  })
  const app = await buildTestApp({
    deps: {
      clients: createClientRegistry(CLIENTS),
      provisioning: {
        service,
        idempotencyTtlHours: 24,
        clientIds: () => CLIENTS.map((c) => c.id),
        dryRun: async (_client, body): Promise<DryRunResult> => {
          dryRuns.push(body)
          return { dryRun: true, valid: true, issues: [], plan: { scimUser: { userName: body.email }, grants: [], groups: [] } }
        },
      },
    },
  })
  t.teardown(async () => { await app.close(); await queue.close() })
  const post = (body: unknown, headers: Record<string, string> = {}, key = KEY_A, query = '') =>
    app.inject({ method: 'POST', url: `/v1/provisioning-requests${query}`, headers: { authorization: `Bearer ${key}`, ...headers }, payload: body as object })
  return { app, post, requests, enqueued, dryRuns, service, queue }
}

t.test('accept: 202, Location, the resource, one job', async (t) => {
  const { post, enqueued } = await setup(t)
  const res = await post(hire())
  t.equal(res.statusCode, 202)
  const body = res.json()
  t.match(body.id, /^prq_[0-9A-Z]{26}$/)
  t.equal(res.headers.location, `/v1/provisioning-requests/${body.id}`)
  t.equal(body.status, 'accepted')
  t.same(enqueued, [body.id])
})

t.test('static policy: 422 with every issue, nothing stored or queued', async (t) => {
  const { post, enqueued, requests } = await setup(t)
  const res = await post(hire({ email: 'nope', division: 'BPO Beta', roles: ['Admin'], groups: ['A/B/C/D'] }))
  t.equal(res.statusCode, 422)
  t.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8')
  const body = res.json()
  t.equal(body.code, 'PROV_ERR_POLICY')
  t.same(body.issues.map((i: { code: string }) => i.code).sort(), ['division.notAllowed', 'email.invalid', 'group.tooDeep', 'role.notAllowed'])
  t.ok(body.requestId)
  t.same(enqueued, [])
  t.same((await requests.list('hris-a', { limit: 10 })).items, [])
})

t.test('schema: unknown field ⇒ 400 and nothing queued', async (t) => {
  const { post, enqueued } = await setup(t)
  const res = await post(hire({ password: 'hunter2' }))
  t.equal(res.statusCode, 400)
  t.notMatch(res.body, /hunter2/, 'the rejected value is not echoed')
  t.same(enqueued, [])
})

t.test('one round: schema issues and the policy issues of the fields that parsed, in one answer', async (t) => {
  const { post, enqueued } = await setup(t)
  const res = await post(hire({ nickname: 'Al', division: 'BPO Beta', roles: ['Admin'], email: 'nope', groups: [7] }))
  t.equal(res.statusCode, 400)
  const body = res.json()
  t.equal(body.code, 'PROV_ERR_VALIDATION')
  t.same(body.issues.map((i: { code: string, path: string }) => `${i.code} ${i.path}`).sort(), [
    'division.notAllowed /division',
    'email.invalid /email',
    'role.notAllowed /roles/0',
    'schema.additionalProperties /nickname',
    'schema.type /groups/0',
  ], 'the broken groups field is reported once, by its schema issue')
  t.match(body.detail, /2 schema issues, 3 policy issues/)
  t.same(enqueued, [])
  const clean = await post(hire({ nickname: 'Al' }))
  t.same(clean.json().issues.map((i: { code: string }) => i.code), ['schema.additionalProperties'], 'no policy issue is invented')
})

t.test('Idempotency-Key: replay, mismatch, malformed, per-client scope', async (t) => {
  const { post, enqueued } = await setup(t)
  const first = await post(hire(), { 'idempotency-key': 'k-1' })
  const again = await post(hire(), { 'idempotency-key': 'k-1' })
  t.equal(first.statusCode, 202)
  t.equal(again.statusCode, 202)
  t.same(again.json(), first.json(), 'the stored response, byte for byte')
  t.equal(again.headers['idempotent-replayed'], 'true')
  t.equal(enqueued.length, 1)

  const other = await post(hire({ givenName: 'Other' }), { 'idempotency-key': 'k-1' })
  t.equal(other.statusCode, 422)
  t.equal(other.json().code, 'PROV_ERR_IDEMPOTENCY_MISMATCH')

  const bad = await post(hire(), { 'idempotency-key': 'has space\u0001' })
  t.equal(bad.statusCode, 400)
  t.equal(bad.json().issues[0].code, 'idempotencyKey.malformed')

  const b = await post(hire({ hrId: 'B-1' }), { 'idempotency-key': 'k-1' }, KEY_B)
  t.equal(b.statusCode, 202, 'the same key of another client is another key')
  t.equal(enqueued.length, 2)
})

t.test('Idempotency-Key with Prefer: wait: the replay is the 201 the first call got', async (t) => {
  const { post, requests, queue } = await setup(t)
  // A worker that completes every request it is given.
  queue.process(async (job) => {
    const r = await requests.get(job.data.requestId)
    if (!r) return
    const at = new Date().toISOString()
    await requests.save({ ...r, status: 'completed', genesysUserId: 'u-1', updatedAt: at, transitions: [...r.transitions, { status: 'completed', at }] })
  }, { concurrency: 1 })
  const first = await post(hire(), { 'idempotency-key': 'k-wait', prefer: 'wait=10' })
  t.equal(first.statusCode, 201)
  t.equal(first.json().status, 'completed')
  const again = await post(hire(), { 'idempotency-key': 'k-wait', prefer: 'wait=10' })
  t.equal(again.statusCode, 201, 'the replay answers 201, not the 202 stored at acceptance')
  t.same(again.json(), first.json(), 'the same body')
  t.equal(again.headers.location, first.headers.location)
  t.equal(again.headers['preference-applied'], 'wait=10')
  t.equal(again.headers['idempotent-replayed'], 'true')
  const plain = await post(hire(), { 'idempotency-key': 'k-wait' })
  t.equal(plain.statusCode, 201, 'also without Prefer')
})

t.test('a policy refusal under a key is remembered too', async (t) => {
  const { post } = await setup(t)
  const a = await post(hire({ email: 'bad' }), { 'idempotency-key': 'k-2' })
  const b = await post(hire({ email: 'bad' }), { 'idempotency-key': 'k-2' })
  t.equal(a.statusCode, 422)
  t.equal(b.statusCode, 422)
  t.equal(b.headers['idempotent-replayed'], 'true')
})

t.test('one active request per hrId: 409 with the Location of the first', async (t) => {
  const { post } = await setup(t)
  const first = await post(hire())
  const second = await post(hire({ email: 'another@example.com' }))
  t.equal(second.statusCode, 409)
  t.equal(second.headers.location, `/v1/provisioning-requests/${first.json().id}`)
})

t.test('reading: own requests only, filters, cursor', async (t) => {
  const { app, post } = await setup(t)
  const ids: string[] = []
  for (let i = 0; i < 5; i++) ids.push((await post(hire({ hrId: `E${i}`, email: `p${i}@example.com` }))).json().id)
  const get = (url: string, key = KEY_A) => app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${key}` } })

  t.equal((await get(`/v1/provisioning-requests/${ids[0]}`)).statusCode, 200)
  const foreign = await get(`/v1/provisioning-requests/${ids[0]}`, KEY_B)
  t.equal(foreign.statusCode, 404, 'another client sees a missing request')
  t.equal((await get('/v1/provisioning-requests/prq_00000000000000000000000000')).statusCode, 404)
  t.equal((await get('/v1/provisioning-requests/not-an-id')).statusCode, 400)

  const page1 = (await get('/v1/provisioning-requests?limit=2')).json()
  t.same(page1.items.map((r: { id: string }) => r.id), [ids[4], ids[3]], 'newest first')
  const page2 = (await get(`/v1/provisioning-requests?limit=2&cursor=${encodeURIComponent(page1.nextCursor)}`)).json()
  t.same(page2.items.map((r: { id: string }) => r.id), [ids[2], ids[1]])
  t.same((await get('/v1/provisioning-requests?hrId=E3')).json().items.map((r: { id: string }) => r.id), [ids[3]])
  t.same((await get('/v1/provisioning-requests', KEY_B)).json().items, [], 'B has none')
  t.equal((await get('/v1/provisioning-requests?cursor=garbage')).statusCode, 400)
})

t.test('scopes: a read-only client cannot post; retry only for failed requests', async (t) => {
  const { app, post } = await setup(t)
  t.equal((await post(hire(), {}, KEY_RO)).statusCode, 403)
  const id = (await post(hire())).json().id
  const retry = await app.inject({ method: 'POST', url: `/v1/provisioning-requests/${id}/retry`, headers: { authorization: `Bearer ${KEY_A}` } })
  t.equal(retry.statusCode, 409, 'an accepted request is not retried')
})

t.test('dry run writes nothing and answers the plan', async (t) => {
  const { post, enqueued, dryRuns } = await setup(t)
  const res = await post(hire(), {}, KEY_A, '?dryRun=true')
  t.equal(res.statusCode, 200)
  t.equal(res.json().dryRun, true)
  t.equal(dryRuns.length, 1)
  t.same(enqueued, [])
})

t.test('bulk retry (admin): failed requests matching status, code and createdAfter, across clients', async (t) => {
  const { app, requests, enqueued } = await setup(t)
  const failed = async (clientId: string, code: string, createdAt: string, steps = 0) => {
    const r = requestRecord({ clientId, createdAt, status: 'failed', error: { code, message: 'x' }, steps: Array.from({ length: steps }, () => ({ name: 'createUser', status: 'done' as const, at: createdAt, durationMs: 1, detail: {} })) })
    await requests.insert({ ...r, status: 'accepted' })
    await requests.save(r)
    return r
  }
  const a1 = await failed('hris-a', 'PROV_ERR_CONFIGURATION', '2026-11-22T10:00:00.000Z', 1)
  const b1 = await failed('hris-b', 'PROV_ERR_CONFIGURATION', '2026-11-22T11:00:00.000Z')
  await failed('hris-b', 'PROV_ERR_UPSTREAM', '2026-11-22T11:00:00.000Z')
  await failed('hris-a', 'PROV_ERR_CONFIGURATION', '2026-11-20T10:00:00.000Z')
  const bulk = (body: object, key = KEY_ADMIN) => app.inject({ method: 'POST', url: '/v1/provisioning-requests/retry', headers: { authorization: `Bearer ${key}` }, payload: body })

  t.equal((await bulk({ code: 'PROV_ERR_CONFIGURATION' }, KEY_A)).statusCode, 403, 'admin scope only')
  const res = await bulk({ code: 'PROV_ERR_CONFIGURATION', createdAfter: '2026-11-21T00:00:00Z' })
  t.equal(res.statusCode, 200)
  t.same(res.json(), { retried: [{ id: a1.id, clientId: 'hris-a' }, { id: b1.id, clientId: 'hris-b' }], skipped: [], more: false })
  t.same(enqueued.sort(), [`${a1.id}-r1`, `${b1.id}-r1`].sort(), 'each queued again as a new generation')
  t.equal((await requests.get(a1.id))?.status, 'provisioning', 'resumed after its finished steps')
  t.equal((await requests.get(b1.id))?.status, 'accepted')
  t.same((await bulk({ code: 'PROV_ERR_CONFIGURATION', createdAfter: '2026-11-21T00:00:00Z' })).json().retried, [], 'nothing matches twice')
  const limited = await bulk({ limit: 1 })
  t.match(limited.json(), { retried: [{}], more: true }, 'a limit, and a sign that more match')
  t.equal((await bulk({ status: 'completed' })).statusCode, 400, 'only failed or rejected requests')
})
