import t, { type Test } from 'tap'
import { sha256Hex } from '../../src/config/clients.js'
import type { Answer } from '../helpers/embedded.js'
import { verifyWith } from '../helpers/receiver.js'
import { serveTenants } from '../helpers/tenants.js'

/**
 * Worker batches through the real service (memory stores) and the simulator
 * over HTTP: each record is taken in on its own, the batch resource and its
 * webhook agree, and a rejected record writes nothing upstream.
 */
t.setTimeout(120_000)

const KEY_A = 'gpk_batches_alpha_0123456789abcdefghijklmnopq'
const KEY_B = 'gpk_batches_beta_0123456789abcdefghijklmnopqr'
const SECRET = 'whsec_' + Buffer.from('batch test webhook secret 32 by').toString('base64')
const scopes = ['provisioning:write', 'provisioning:read']

async function service (t: Test, env: Record<string, string> = {}) {
  const { sim, call, writes, receiver } = await serveTenants(t, (url) => [
    { id: 'hris-a', name: 'A', keySha256: sha256Hex(KEY_A), scopes, divisions: ['BPO Alpha'], webhook: { url, secrets: [SECRET], events: ['worker-batch.completed'] } },
    { id: 'hris-b', name: 'B', keySha256: sha256Hex(KEY_B), scopes, divisions: ['BPO Beta'] },
  ], { env })
  /** Polls the batch until it is completed (bounded). */
  const settled = async (id: string, key = KEY_A): Promise<Answer> => {
    for (let i = 0; i < 600; i++) {
      const got = await call(key, 'GET', `/v1/worker-batches/${id}?limit=1000`)
      if (got.body.status === 'completed') return got
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    throw new Error(`batch ${id} did not complete`)
  }
  return { sim, call, writes, receiver, settled }
}

const worker = (i: number, over: Record<string, unknown> = {}) => ({ hrId: `B-${i}`, email: `batch.${i}@example.com`, givenName: 'Batch', familyName: `Person ${i}`, division: 'BPO Alpha', roles: ['Agent'], ...over })

/** Twenty ways a record can be wrong, each on its own. */
function invalid (i: number, kind: number): Record<string, unknown> {
  switch (kind % 5) {
    case 0: return { hrId: `B-${i}`, givenName: 'No', familyName: 'Email', division: 'BPO Alpha' }
    case 1: return worker(i, { division: 'BPO Beta' })
    case 2: return worker(i, { nickname: 'not a field' })
    case 3: return worker(i, { email: 'not-an-email' })
    default: return worker(i, { roles: ['Master Admin'], division: 'Nowhere' })
  }
}

t.test('200 records with 20 invalid: 180 accepted and completed, 20 rejected each with its own issues; resource and webhook agree; no write for the 20', async (t) => {
  const s = await service(t)
  const bad = new Set(Array.from({ length: 20 }, (_, k) => k * 10 + 3))
  const workers = Array.from({ length: 200 }, (_, i) => (bad.has(i) ? invalid(i, (i - 3) / 10) : worker(i)))
  const res = await s.call(KEY_A, 'POST', '/v1/worker-batches', { workers })
  t.equal(res.status, 202, JSON.stringify(res.body).slice(0, 500))
  t.match(res.headers.get('location'), /^\/v1\/worker-batches\/wbt_/)
  t.match(res.body.counts, { accepted: 180, rejected: 20, unchanged: 0 })
  const done = await s.settled(String(res.body.id))
  t.same(done.body.counts, { accepted: 180, unchanged: 0, rejected: 20, planned: 0, completed: 180, failed: 0, pending: 0 })
  const results = done.body.results as Array<{ index: number, hrId?: string, outcome: string, requestId?: string, requestStatus?: string, issues?: Array<{ code: string, path: string }> }>
  t.same(results.map((r) => r.index), Array.from({ length: 200 }, (_, i) => i), 'one result per record, in order')
  for (const r of results) {
    if (bad.has(r.index)) {
      t.equal(r.outcome, 'rejected', `record ${r.index} rejected`)
      t.ok((r.issues ?? []).length > 0 && (r.issues ?? []).every((i) => i.path.startsWith(`/workers/${r.index}`)), `record ${r.index}: its own issues, pointing at it`)
      t.notOk(r.requestId)
    } else {
      t.match(r, { outcome: 'accepted', change: 'hire', requestStatus: 'completed' })
      t.match(r.requestId, /^prq_/)
    }
  }
  const codes = [...bad].slice(0, 5).map((i) => results[i]?.issues?.map((x) => x.code).join(','))
  t.match(codes, ['schema.required', 'division.notAllowed', 'schema.additionalProperties', 'email.invalid', /role|division/], 'each refusal says why')

  // The webhook says the same.
  for (let i = 0; i < 100 && s.receiver.received.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 50))
  const hooks = s.receiver.received.map((r) => verifyWith(SECRET, r) as { type: string, data: { batchId: string, counts: Record<string, number>, total: number } })
  t.equal(hooks.length, 1, 'one worker-batch.completed')
  t.equal(hooks[0]?.type, 'worker-batch.completed')
  t.equal(hooks[0]?.data.batchId, res.body.id)
  t.equal(hooks[0]?.data.total, 200)
  t.same(hooks[0]?.data.counts, { accepted: 180, unchanged: 0, rejected: 20, planned: 0, completed: 180, failed: 0 })

  // Upstream: a user for each accepted record, none for the 20 (every other write names a user).
  t.equal(s.writes().filter((w) => w.method === 'POST' && w.path.endsWith('/scim/v2/users')).length, 180, 'one user create per accepted record')
  const made = [...s.sim.state.users.values()].filter((u) => u.userName.startsWith('batch.')).map((u) => u.userName).sort()
  t.same(made, Array.from({ length: 200 }, (_, i) => i).filter((i) => !bad.has(i)).map((i) => `batch.${i}@example.com`).sort(), 'the users are exactly the accepted records\' (no write for the 20)')
  const userPaths = s.writes().flatMap((w) => /\/users\/([^/?]+)|subjects\/([^/?]+)/.exec(w.path)?.slice(1).filter(Boolean) ?? [])
  const ours = new Set([...s.sim.state.users.values()].filter((u) => made.includes(u.userName)).map((u) => u.id))
  t.same(userPaths.filter((id) => !ours.has(id)), [], 'no write names any other user')
})

t.test('the same batch again is unchanged per record; Idempotency-Key replays the batch, another body under it is 422; other clients see nothing', async (t) => {
  const s = await service(t)
  const workers = Array.from({ length: 5 }, (_, i) => worker(100 + i))
  const first = await s.call(KEY_A, 'POST', '/v1/worker-batches', { workers }, { 'idempotency-key': 'nightly-2026-12-07' })
  t.equal(first.status, 202)
  await s.settled(String(first.body.id))
  const replay = await s.call(KEY_A, 'POST', '/v1/worker-batches', { workers }, { 'idempotency-key': 'nightly-2026-12-07' })
  t.equal(replay.status, 202)
  t.equal(replay.body.id, first.body.id, 'the same batch')
  t.equal(replay.headers.get('idempotent-replayed'), 'true')
  const other = await s.call(KEY_A, 'POST', '/v1/worker-batches', { workers: workers.slice(1) }, { 'idempotency-key': 'nightly-2026-12-07' })
  t.equal(other.status, 422)
  t.equal(other.body.code, 'PROV_ERR_IDEMPOTENCY_MISMATCH')
  const again = await s.call(KEY_A, 'POST', '/v1/worker-batches', { workers })
  t.not(again.body.id, first.body.id, 'without a key: a new batch')
  t.match(again.body.counts, { accepted: 0, unchanged: 5 })
  t.equal((await s.settled(String(again.body.id))).body.status, 'completed', 'nothing to run: completed at once')
  t.equal((await s.call(KEY_B, 'GET', `/v1/worker-batches/${String(first.body.id)}`)).status, 404, "another client's batch is not found")
})

t.test('two retries of one keyed batch at the same moment: one takes it in, the other is told to wait (409); no record is refused for it', async (t) => {
  const s = await service(t)
  const workers = Array.from({ length: 200 }, (_, i) => worker(300 + i))
  const headers = { 'idempotency-key': 'roster-concurrent' }
  const answers = await Promise.all([s.call(KEY_A, 'POST', '/v1/worker-batches', { workers }, headers), s.call(KEY_A, 'POST', '/v1/worker-batches', { workers }, headers)])
  const statuses = answers.map((a) => a.status).sort()
  t.ok(statuses[0] === 202 && [202, 409].includes(statuses[1] ?? 0), `one intake; the other waits or replays (${statuses.join(', ')})`)
  const waited = answers.find((a) => a.status === 409)
  if (waited) t.equal(waited.body.code, 'PROV_ERR_IDEMPOTENCY_IN_FLIGHT')
  const id = String(answers.find((a) => a.status === 202)?.body.id)
  const done = await s.settled(id)
  t.match(done.body.counts, { accepted: 200, rejected: 0, completed: 200 })
})

t.test('a dry run says what each record would change and writes nothing; results page with a cursor', async (t) => {
  const s = await service(t)
  await s.settled(String((await s.call(KEY_A, 'POST', '/v1/worker-batches', { workers: [worker(200)] })).body.id))
  const before = s.writes().length
  const workers = [worker(200, { status: 'terminated' }), worker(201), worker(202, { division: 'Elsewhere' }), ...Array.from({ length: 7 }, (_, i) => worker(210 + i))]
  const dry = await s.call(KEY_A, 'POST', '/v1/worker-batches', { workers, dryRun: true })
  t.equal(dry.status, 202)
  t.equal(dry.body.status, 'completed')
  t.match(dry.body.counts, { planned: 9, rejected: 1, accepted: 0 })
  const rows = dry.body.results as Array<{ outcome: string, change?: string }>
  t.match(rows.slice(0, 3), [{ outcome: 'planned', change: 'terminate' }, { outcome: 'planned', change: 'hire' }, { outcome: 'rejected' }])
  t.equal(s.writes().length, before, 'nothing written upstream')
  const id = String(dry.body.id)
  const seen: number[] = []
  let cursor: string | undefined
  for (let page = 0; page < 10; page++) {
    const got = await s.call(KEY_A, 'GET', `/v1/worker-batches/${id}?limit=4${cursor ? `&cursor=${cursor}` : ''}`)
    seen.push(...(got.body.results as Array<{ index: number }>).map((r) => r.index))
    cursor = got.body.nextCursor as string | undefined
    if (!cursor) break
  }
  t.same(seen, Array.from({ length: 10 }, (_, i) => i), 'every record once, in order')
  t.equal((await s.call(KEY_A, 'GET', `/v1/worker-batches/${id}?cursor=bm9wZQ`)).status, 400, 'a cursor this batch did not hand out')
})

t.test('the batch route has its own body limit; the rest of the API keeps its own', async (t) => {
  const s = await service(t, { WORKER_BATCH_BODY_LIMIT_BYTES: String(300 * 1024) })
  const big = Array.from({ length: 1000 }, (_, i) => worker(i, { familyName: 'x'.repeat(150) }))
  const ok = await s.call(KEY_A, 'POST', '/v1/worker-batches', { workers: big, dryRun: true })
  t.equal(ok.status, 202, `${JSON.stringify({ workers: big }).length} bytes, over the 64 KiB of other routes`)
  const tooBig = await s.call(KEY_A, 'POST', '/v1/worker-batches', { workers: big.map((w) => ({ ...w, familyName: 'y'.repeat(199) })), dryRun: true })
  t.equal(tooBig.status, 413)
  t.match(tooBig.body.detail, /307200 bytes/)
  const tooMany = await s.call(KEY_A, 'POST', '/v1/worker-batches', { workers: [...big, worker(1000)].map((w) => ({ hrId: w.hrId })), dryRun: true })
  t.equal(tooMany.status, 400, 'more than 1,000 records')
  t.equal((await s.call(KEY_A, 'POST', '/v1/provisioning-requests', { ...worker(1), familyName: 'z'.repeat(70_000) })).status, 413, 'other routes: 64 KiB as before')
})
