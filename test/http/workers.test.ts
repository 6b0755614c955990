import t, { type Test } from 'tap'
import { sha256Hex } from '../../src/config/clients.js'
import { verifyWith } from '../helpers/receiver.js'
import { serveTenants } from '../helpers/tenants.js'

/**
 * The worker lifecycle over HTTP, through the real service (memory stores)
 * and the simulator: desired states in (PUT, merge-patch PATCH), requests and
 * signed webhooks out, the registry read back; nothing of another tenant's.
 */
t.setTimeout(120_000)

const KEY_A = 'gpk_workers_alpha_0123456789abcdefghijklmnop'
const KEY_B = 'gpk_workers_beta_0123456789abcdefghijklmnopq'
const KEY_READ = 'gpk_workers_reader_0123456789abcdefghijklmno'
const SECRET = 'whsec_' + Buffer.from('workers test webhook secret 0032').toString('base64')

async function service (t: Test) {
  const { sim, call, writes, receiver, logs } = await serveTenants(t, (url) => [
    { id: 'bpo-a', name: 'BPO A', keySha256: sha256Hex(KEY_A), scopes: ['provisioning:write', 'provisioning:read', 'groups:write'], divisions: ['BPO Alpha'], externalIdPrefix: 'bpo-a:', webhook: { url, secrets: [SECRET] } },
    { id: 'bpo-b', name: 'BPO B', keySha256: sha256Hex(KEY_B), scopes: ['provisioning:write', 'provisioning:read'], divisions: ['BPO Beta'], externalIdPrefix: 'bpo-b:' },
    { id: 'bpo-a-reader', name: 'BPO A dashboards', keySha256: sha256Hex(KEY_READ), scopes: ['provisioning:read'], divisions: ['BPO Alpha'] },
  ])
  // Tenant A's HR group feeds a group of its own (created in its division).
  const mapped = await call(KEY_A, 'PUT', `/v1/group-mappings/${encodeURIComponent('Ops/Care')}`, { genesysGroup: 'Alpha Care', create: true })
  if (mapped.status >= 300) throw new Error(`mapping: ${JSON.stringify(mapped.body)}`)
  return { sim, call, writes, receiver, logs }
}

const ADA = { email: 'ada.worker@example.com', givenName: 'Ada', familyName: 'Worker', division: 'BPO Alpha', roles: ['Agent'], groups: ['Ops/Care'] }
const MERGE = { 'content-type': 'application/merge-patch+json', prefer: 'wait=20' }

t.test('hire by PUT, terminate by merge patch, rehire by PUT: each a request with its kind, a signed webhook, the worker read back', async (t) => {
  const s = await service(t)
  const hired = await s.call(KEY_A, 'PUT', '/v1/workers/W-1', ADA, { prefer: 'wait=20' })
  t.equal(hired.status, 201, JSON.stringify(hired.body))
  t.match(hired.body, { kind: 'hire', status: 'completed', hrId: 'W-1' })
  const userId = String(hired.body.genesysUserId)
  const unchanged = await s.call(KEY_A, 'PUT', '/v1/workers/W-1', ADA)
  t.equal(unchanged.status, 200, 'the same desired state: no change')
  t.match(unchanged.body, { hrId: 'W-1', status: 'active', genesysUserId: userId, division: { name: 'BPO Alpha' }, origin: 'created' })

  const terminated = await s.call(KEY_A, 'PATCH', '/v1/workers/W-1', { status: 'terminated' }, { ...MERGE, 'idempotency-key': 'leaver-1' })
  t.equal(terminated.status, 201, JSON.stringify(terminated.body))
  t.match(terminated.body, { kind: 'terminate', status: 'completed', genesysUserId: userId })
  const replay = await s.call(KEY_A, 'PATCH', '/v1/workers/W-1', { status: 'terminated' }, { ...MERGE, 'idempotency-key': 'leaver-1' })
  t.equal(replay.status, 201, 'a replay answers as first answered')
  t.equal(replay.headers.get('idempotent-replayed'), 'true')
  t.equal(replay.body.id, terminated.body.id)
  t.equal(s.sim.state.users.get(userId)?.state, 'inactive', 'Genesys user deactivated')

  const mine = await s.call(KEY_A, 'GET', '/v1/workers/W-1')
  t.match(mine.body, { status: 'terminated', groups: [], lastRequestId: terminated.body.id })
  t.ok(mine.body.deactivatedAt)
  const list = await s.call(KEY_A, 'GET', '/v1/workers?status=terminated&division=bpo%20alpha')
  t.same((list.body.items as Array<{ hrId: string }>).map((w) => w.hrId), ['W-1'])
  t.same((await s.call(KEY_A, 'GET', '/v1/workers?status=active')).body.items, [])

  await s.receiver.waitFor(2)
  const events = s.receiver.received.map((r) => verifyWith(SECRET, r) as { type: string, data: Record<string, unknown> })
  const leaver = events.find((e) => e.data.kind === 'terminate')
  t.match(leaver, { type: 'provisioning.completed', data: { kind: 'terminate', hrId: 'W-1', genesysUserId: userId, division: 'BPO Alpha', deactivatedAt: mine.body.deactivatedAt, changes: { active: { before: true, after: false }, groupsAdded: [], groupsRemoved: [String] } } })
  t.match(events.find((e) => e.data.kind === 'hire'), { type: 'provisioning.completed', data: { account: 'created' } })

  const rehired = await s.call(KEY_A, 'PUT', '/v1/workers/W-1', { ...ADA, status: 'active' }, { prefer: 'wait=20' })
  t.equal(rehired.status, 201, JSON.stringify(rehired.body))
  t.match(rehired.body, { kind: 'rehire', genesysUserId: userId })
  t.equal(s.sim.state.users.get(userId)?.state, 'active', 'the same user, active again')
  await s.receiver.waitFor(3)
  const back = s.receiver.received.map((r) => verifyWith(SECRET, r) as { data: Record<string, unknown> }).find((e) => e.data.kind === 'rehire')
  t.match(back?.data, { account: 'reactivated', changes: { active: { before: false, after: true } } })
})

t.test('scopes, tenants and bad input: refused, nothing written', async (t) => {
  const s = await service(t)
  const hired = await s.call(KEY_A, 'PUT', '/v1/workers/W-2', ADA, { prefer: 'wait=20' })
  t.equal(hired.status, 201, JSON.stringify(hired.body))
  const before = s.writes().length
  t.equal((await s.call(KEY_READ, 'PATCH', '/v1/workers/W-2', { status: 'terminated' }, MERGE)).status, 403, 'provisioning:read cannot change a worker')
  t.equal((await s.call(KEY_B, 'PATCH', '/v1/workers/W-2', { status: 'terminated' }, MERGE)).status, 404, "another tenant's worker does not exist for it")
  t.equal((await s.call(KEY_B, 'GET', '/v1/workers/W-2')).status, 404)
  t.equal((await s.call(KEY_A, 'POST', '/v1/provisioning-requests/confirm', { clientId: 'bpo-a' })).status, 403, 'releasing held changes is for admins')
  t.equal((await s.call(KEY_A, 'POST', `/v1/provisioning-requests/${String(hired.body.id)}/confirm`)).status, 403)
  t.same((await s.call(KEY_B, 'GET', '/v1/workers')).body.items, [], 'nor in its list')
  t.equal((await s.call(KEY_READ, 'GET', '/v1/workers/W-2')).status, 404, 'workers are per API client')
  const bad = await s.call(KEY_A, 'PATCH', '/v1/workers/W-2', { status: 'fired' }, MERGE)
  t.equal(bad.status, 400)
  t.equal(bad.headers.get('content-type'), 'application/problem+json; charset=utf-8')
  t.equal((await s.call(KEY_A, 'PATCH', '/v1/workers/W-2', { unknown: 1 }, MERGE)).status, 400, 'unknown fields are errors')
  t.equal((await s.call(KEY_A, 'PATCH', '/v1/workers/W-2', '{"status":', MERGE)).status, 400, 'malformed JSON')
  t.equal((await s.call(KEY_A, 'PATCH', '/v1/workers/W-2', 'status=terminated', { 'content-type': 'text/plain' })).status, 415)
  t.equal((await s.call(KEY_A, 'PATCH', '/v1/workers/bad%20id', { status: 'terminated' }, MERGE)).status, 400, 'an HR id outside the safe characters')
  const away = await s.call(KEY_A, 'PATCH', '/v1/workers/W-2', { division: 'BPO Beta' }, MERGE)
  t.equal(away.status, 422, 'a move into a division the client may not provision into')
  t.match(away.body.issues, [{ code: 'division.notAllowed' }])
  const later = await s.call(KEY_A, 'PATCH', '/v1/workers/W-2', { status: 'terminated', effectiveAt: '2099-13-04T09:00:00Z' }, MERGE)
  t.equal(later.status, 422)
  t.match(later.body.issues, [{ code: 'effectiveAt.invalid', path: '/effectiveAt' }])
  t.equal(s.writes().length, before, 'no upstream write for any of them')
  t.notOk(s.logs.text().includes(KEY_A), "no API key in the logs")
  const update = await s.call(KEY_A, 'PATCH', '/v1/workers/W-2', { title: 'Team Lead' }, MERGE)
  t.equal(update.status, 201, JSON.stringify(update.body))
  t.match(update.body, { kind: 'update', status: 'completed', steps: [{ name: 'updateUser', status: 'done', detail: { changed: ['title'] } }] })
  t.same(s.writes().slice(before).map((w) => w.method), ['PATCH'], 'one upstream write: the title')
  const moved = await s.call(KEY_A, 'PATCH', '/v1/workers/W-2', { roles: ['Team Lead'] }, MERGE)
  t.equal(moved.status, 201, JSON.stringify(moved.body))
  await s.receiver.waitFor(3)
  const events = s.receiver.received.map((r) => verifyWith(SECRET, r) as { data: Record<string, unknown> })
  t.match(events.find((e) => e.data.requestId === update.body.id)?.data, { kind: 'update', changes: { attributes: ['title'], division: { before: 'BPO Alpha', after: 'BPO Alpha' }, rolesAdded: [], rolesRemoved: [] } })
  t.match(events.find((e) => e.data.requestId === moved.body.id)?.data, { kind: 'update', changes: { attributes: [], rolesAdded: [{ roleId: String }], rolesRemoved: [{ roleId: String }] } })
})

t.test('Prefer: wait longer than the idle-socket deadline: the connection is held for the wait, then the deadline applies again', async (t) => {
  // Each upstream call takes ~400 ms, so a hire takes seconds: well past a 1 s idle deadline.
  const { call } = await serveTenants(t, () => [{ id: 'bpo-a', name: 'BPO A', keySha256: sha256Hex(KEY_A), scopes: ['provisioning:write', 'provisioning:read'], divisions: ['BPO Alpha'] }], { sim: { faults: { latencyMs: 400 } }, env: { CONNECTION_TIMEOUT_MS: '1000' } })
  const started = Date.now()
  const hired = await call(KEY_A, 'PUT', '/v1/workers/W-SLOW', { email: 'slow.worker@example.com', givenName: 'Slow', familyName: 'Worker', division: 'BPO Alpha', roles: ['Agent'] }, { prefer: 'wait=20' })
  t.equal(hired.status, 201, `answered after ${Date.now() - started} ms: ${JSON.stringify(hired.body)}`)
  t.ok(Date.now() - started > 1000, 'the wait outlasted the idle deadline')
  const leaver = await call(KEY_A, 'PATCH', '/v1/workers/W-SLOW', { status: 'terminated' }, MERGE)
  t.equal(leaver.status, 201)
  t.match(leaver.body, { kind: 'terminate', status: 'completed' })
})

t.test('a future termination is scheduled: listed on the worker, nothing written, cancellable; a later one supersedes only when it says so', async (t) => {
  const s = await service(t)
  const hired = await s.call(KEY_A, 'PUT', '/v1/workers/W-5', ADA, { prefer: 'wait=20' })
  t.equal(hired.status, 201, JSON.stringify(hired.body))
  const before = s.writes().length
  const leaving = await s.call(KEY_A, 'PATCH', '/v1/workers/W-5', { status: 'terminated', effectiveAt: '2099-01-04' }, MERGE)
  t.equal(leaving.status, 202, 'Prefer: wait does not wait for a scheduled change')
  t.match(leaving.body, { kind: 'terminate', status: 'scheduled', effectiveAt: '2099-01-04T00:00:00.000Z' })
  t.equal(leaving.headers.get('location'), `/v1/provisioning-requests/${String(leaving.body.id)}`)
  const moving = await s.call(KEY_A, 'PATCH', '/v1/workers/W-5', { title: 'Team Lead', effectiveAt: '2098-06-01T09:00:00+01:00' }, MERGE)
  t.match(moving.body, { kind: 'update', status: 'scheduled', effectiveAt: '2098-06-01T08:00:00.000Z' })
  const worker = await s.call(KEY_A, 'GET', '/v1/workers/W-5')
  t.same(worker.body.scheduled, [
    { id: moving.body.id, kind: 'update', effectiveAt: '2098-06-01T08:00:00.000Z' },
    { id: leaving.body.id, kind: 'terminate', effectiveAt: '2099-01-04T00:00:00.000Z' },
  ], 'both kept, in effective order')
  t.match((await s.call(KEY_A, 'GET', '/v1/provisioning-requests?status=scheduled')).body, { items: [{ status: 'scheduled' }, { status: 'scheduled' }] })
  const listed = (await s.call(KEY_A, 'GET', '/v1/workers')).body.items as Array<{ hrId: string, scheduled: unknown[] }>
  t.same(listed.find((w) => w.hrId === 'W-5')?.scheduled, worker.body.scheduled, 'the list shows them too')
  t.equal((await s.call(KEY_B, 'POST', `/v1/provisioning-requests/${String(leaving.body.id)}/cancel`)).status, 404, "another tenant cannot cancel it")

  const replacing = await s.call(KEY_A, 'PATCH', '/v1/workers/W-5', { status: 'terminated', effectiveAt: '2098-12-31T17:00:00Z', supersede: true }, MERGE)
  t.match(replacing.body, { kind: 'terminate', status: 'scheduled' })
  const superseded = await s.call(KEY_A, 'GET', `/v1/provisioning-requests/${String(leaving.body.id)}`)
  t.match(superseded.body, { status: 'cancelled', notes: [`Superseded by ${String(replacing.body.id)}.`] })
  t.equal((await s.call(KEY_A, 'GET', `/v1/provisioning-requests/${String(moving.body.id)}`)).body.status, 'scheduled', 'an earlier change is kept')

  const cancelled = await s.call(KEY_A, 'POST', `/v1/provisioning-requests/${String(replacing.body.id)}/cancel`)
  t.equal(cancelled.status, 200)
  t.match(cancelled.body, { status: 'cancelled' })
  t.equal((await s.call(KEY_A, 'POST', `/v1/provisioning-requests/${String(replacing.body.id)}/cancel`)).status, 409, 'cancelled once')
  t.same((await s.call(KEY_A, 'GET', '/v1/workers/W-5')).body.scheduled, [{ id: moving.body.id, kind: 'update', effectiveAt: '2098-06-01T08:00:00.000Z' }])
  t.equal(s.writes().length, before, 'nothing of it reached Genesys')
})
