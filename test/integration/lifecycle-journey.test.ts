import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { sha256Hex } from '../../src/config/clients.js'
import { createSimulator, type Simulator } from '../../src/simulator/index.js'
import { serveEmbedded, type Answer } from '../helpers/embedded.js'
import { simulatorEnv } from '../helpers/genesys.js'
import { startReceiver, verifyWith } from '../helpers/receiver.js'
import { startRedis } from '../helpers/redis.js'
import { startService, type RunningService } from '../helpers/service.js'

/**
 * One worker's whole life over real HTTP against the simulator, in the
 * embedded default and with Redis behind separate api and worker processes:
 * hire, update, move, terminate, rehire, terminate with its hard delete, and
 * a rehire after the delete. Every step's webhook is verified with
 * standardwebhooks and says what changed.
 */
t.setTimeout(240_000)

const KEY = 'gpk_journey_0123456789abcdefghijklmnopqrstuvw'
const ADMIN = 'gpk_journey_ops_0123456789abcdefghijklmnopqrs'
const SECRET = 'whsec_' + Buffer.from('lifecycle journey webhook secret').toString('base64')
const MERGE = { 'content-type': 'application/merge-patch+json' }
// About 8.6 s: long enough for the rehire that follows the termination to
// cancel it (a second or two), short enough to wait for.
const DELETE_AFTER_DAYS = '0.0001'

type Call = (key: string, method: string, path: string, body?: unknown, extra?: Record<string, string>) => Promise<Answer>
interface Setup { sim: Simulator, call: Call, receiver: Awaited<ReturnType<typeof startReceiver>>, restartWorker?: (during: () => Promise<void>) => Promise<void> }

async function common (t: Test) {
  const sim = await createSimulator({ rateLimitPerMinute: 100_000 })
  t.teardown(() => sim.close())
  const receiver = await startReceiver()
  t.teardown(() => receiver.close())
  const dir = await mkdtemp(join(tmpdir(), 'prov-journey-'))
  const clientsFile = join(dir, 'clients.json')
  await writeFile(clientsFile, JSON.stringify({
    clients: [
      { id: 'hris', name: 'HRIS', keySha256: sha256Hex(KEY), scopes: ['provisioning:write', 'provisioning:read'], divisions: '*', webhook: { url: receiver.url, secrets: [SECRET] } },
      { id: 'ops', name: 'Operators', keySha256: sha256Hex(ADMIN), scopes: ['admin'], divisions: '*' },
    ],
  }))
  return { sim, receiver, env: { ...simulatorEnv(sim), CLIENTS_FILE: clientsFile, TERMINATION_DELETE_AFTER_DAYS: DELETE_AFTER_DAYS, WEBHOOK_ALLOWED_NETWORKS: '127.0.0.1/32' } }
}

async function embedded (t: Test): Promise<Setup> {
  const { sim, receiver, env } = await common(t)
  const { call } = await serveEmbedded(t, env)
  return { sim, receiver, call }
}

async function fleet (t: Test): Promise<Setup> {
  const { sim, receiver, env } = await common(t)
  const redis = await startRedis({ appendonly: true })
  t.teardown(() => redis.stop())
  const full = { ...env, REDIS_URL: redis.url, JOB_LOCK_MS: '2000', SHUTDOWN_GRACE_MS: '2000' }
  const api = await startService({ ...full, ROLE: 'api' })
  let worker: RunningService = await startService({ ...full, ROLE: 'worker' })
  t.teardown(async () => { await api.stop('SIGKILL'); await worker.stop('SIGKILL') })
  const call: Call = async (key, method, path, body, extra = {}) => {
    const res = await fetch(`${api.url}${path}`, { method, headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...extra }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) })
    const text = await res.text()
    return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> }
  }
  return {
    sim, receiver, call,
    restartWorker: async (during) => {
      await worker.stop('SIGKILL')
      await during()
      worker = await startService({ ...full, ROLE: 'worker' })
    },
  }
}

/** Follows a request to its end (bounded). */
async function settled (call: Call, id: string, seconds = 40): Promise<Record<string, unknown>> {
  const deadline = Date.now() + seconds * 1000
  for (;;) {
    const r = (await call(KEY, 'GET', `/v1/provisioning-requests/${id}`)).body
    if (['completed', 'failed', 'rejected', 'cancelled', 'held'].includes(String(r.status)) || Date.now() > deadline) return r
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

async function journey (t: Test, s: Setup): Promise<void> {
  const events = new Map<string, { type: string, data: Record<string, unknown> }>()
  /** The verified webhook of one request (waits for it). */
  const webhookOf = async (requestId: string) => {
    const deadline = Date.now() + 20_000
    while (!events.has(requestId) && Date.now() < deadline) {
      for (const r of s.receiver.received) {
        const e = verifyWith(SECRET, r) as { type: string, data: Record<string, unknown> }
        events.set(String(e.data.requestId), e)
      }
      if (!events.has(requestId)) await new Promise((resolve) => setTimeout(resolve, 100))
    }
    return events.get(requestId)
  }
  const change = async (body: Record<string, unknown>, method = 'PATCH') => {
    const res = await s.call(KEY, method, '/v1/workers/J-1', body, method === 'PATCH' ? MERGE : {})
    t.equal(res.status, 202, JSON.stringify(res.body))
    const done = await settled(s.call, String(res.body.id))
    t.equal(done.status, 'completed', JSON.stringify(done.error ?? done.issues))
    return { done, event: await webhookOf(String(res.body.id)) }
  }
  const grantsOf = (userId: string) => (s.sim.state.grants.get(userId) ?? []).map((g) => `${s.sim.state.roles.get(g.roleId)?.name ?? '?'}@${s.sim.state.divisions.get(g.divisionId)?.name ?? '?'}`).sort()
  const groupsOf = (userId: string) => [...s.sim.state.groups.values()].filter((g) => g.memberIds.includes(userId)).map((g) => g.name).sort()

  // Memberships and grants the service did not make, on the way.
  const other = [...s.sim.state.users.values()].find((u) => u.state === 'active')?.id ?? ''
  const othersBefore = { grants: grantsOf(other), groups: groupsOf(other) }

  const hired = await change({ email: 'journey@example.com', givenName: 'Jo', familyName: 'Urney', division: 'BPO Alpha', roles: ['Agent'], groups: ['Ops/Support'] }, 'PUT')
  t.match(hired.event, { type: 'provisioning.completed', data: { kind: 'hire', account: 'created', division: 'BPO Alpha' } })
  const userId = String(hired.done.genesysUserId)
  t.same(grantsOf(userId), ['Agent@BPO Alpha'])
  t.same(groupsOf(userId), ['Support'])

  const updated = await change({ title: 'Team Lead' })
  t.match(updated.event, { data: { kind: 'update', changes: { attributes: ['title'], division: { before: 'BPO Alpha', after: 'BPO Alpha' } } } })
  t.equal(s.sim.state.users.get(userId)?.title, 'Team Lead')

  const moved = await change({ division: 'BPO Beta', groups: ['Ops/Sales'] })
  t.match(moved.event, { data: { kind: 'move', changes: { division: { before: 'BPO Alpha', after: 'BPO Beta' }, rolesAdded: [{}], rolesRemoved: [{}], groupsAdded: [String], groupsRemoved: [String] } } })
  t.same(grantsOf(userId), ['Agent@BPO Beta'], 'grants only in the new division')
  t.same(groupsOf(userId), ['Sales'], 'groups re-resolved')

  const left = await change({ status: 'terminated' })
  t.match(left.event, { data: { kind: 'terminate', deactivatedAt: String, changes: { active: { before: true, after: false }, groupsRemoved: [String] } } })
  t.equal(s.sim.state.users.get(userId)?.state, 'inactive')
  t.same(groupsOf(userId), [], 'out of the service\'s groups')
  t.same(grantsOf(userId), ['Agent@BPO Beta'], 'roles kept')
  const worker = (await s.call(KEY, 'GET', '/v1/workers/J-1')).body
  t.match(worker, { status: 'terminated', scheduled: [{ kind: 'terminate', hardDelete: true }] }, 'the hard delete is scheduled with it')
  const firstDelete = String((worker.scheduled as Array<{ id: string }>)[0]?.id)

  const back = await change({ status: 'active' })
  t.match(back.event, { data: { kind: 'rehire', account: 'reactivated', changes: { active: { before: false, after: true } } } })
  t.equal(back.done.genesysUserId, userId, 'the same Genesys user')
  t.equal(s.sim.state.users.get(userId)?.state, 'active')
  t.same(grantsOf(userId), ['Agent@BPO Beta'])
  t.same(groupsOf(userId), ['Sales'])
  t.match(await settled(s.call, firstDelete), { status: 'cancelled' }, 'the rehire cancelled the hard delete')

  const leftAgain = await change({ status: 'terminated' })
  t.equal(leftAgain.event?.data.kind, 'terminate')
  const pending = (await s.call(KEY, 'GET', '/v1/workers/J-1')).body.scheduled as Array<{ id: string, hardDelete?: boolean }>
  const deleteId = String(pending.find((p) => p.hardDelete === true)?.id)
  const deleted = await settled(s.call, deleteId, 60)
  t.match(deleted, { status: 'completed', kind: 'terminate', hardDelete: true, steps: [{ name: 'deleteUser', status: 'done' }] })
  t.match((await webhookOf(deleteId))?.data, { kind: 'terminate', hardDelete: true, userDeleted: true, deletedAt: String })
  t.equal(s.sim.state.users.get(userId)?.state, 'deleted', 'deleted in Genesys')
  t.match((await s.call(KEY, 'GET', '/v1/workers/J-1')).body, { status: 'terminated', deletedAt: String })

  const anew = await change({ status: 'active' })
  t.match(anew.done, { kind: 'hire', notes: [/no longer exists/] }, 'a rehire after the delete is a hire of a new user')
  t.not(anew.done.genesysUserId, userId)
  t.match(anew.event, { data: { kind: 'hire', account: 'created' } })
  t.same(grantsOf(String(anew.done.genesysUserId)), ['Agent@BPO Beta'])

  t.same({ grants: grantsOf(other), groups: groupsOf(other) }, othersBefore, 'grants and memberships the service did not make are untouched')
}

t.test('embedded: a worker\'s whole life, each step\'s webhook verified', async (t) => {
  await journey(t, await embedded(t))
})

t.test('Redis, separate api and worker: the same life', async (t) => {
  await journey(t, await fleet(t))
})

t.test('Redis: a termination scheduled 3 s ahead runs within 2 s of its time though the worker was killed and restarted meanwhile; a cancelled one never runs', async (t) => {
  const s = await fleet(t)
  if (!s.restartWorker) throw new Error('fleet without a worker')
  const ids: string[] = []
  for (const hrId of ['S-1', 'S-2']) {
    const res = await s.call(KEY, 'PUT', `/v1/workers/${hrId}`, { email: `${hrId.toLowerCase()}@example.com`, givenName: 'Sched', familyName: hrId, roles: ['Agent'] }, { prefer: 'wait=20' })
    t.equal(res.status, 201, JSON.stringify(res.body))
    ids.push(String(res.body.genesysUserId))
  }
  const effectiveAt = new Date(Date.now() + 3000).toISOString()
  const leaving = await s.call(KEY, 'PATCH', '/v1/workers/S-1', { status: 'terminated', effectiveAt }, MERGE)
  const withdrawn = await s.call(KEY, 'PATCH', '/v1/workers/S-2', { status: 'terminated', effectiveAt }, MERGE)
  t.match([leaving.body.status, withdrawn.body.status], ['scheduled', 'scheduled'])
  await s.restartWorker(async () => {
    t.equal((await s.call(KEY, 'POST', `/v1/provisioning-requests/${String(withdrawn.body.id)}/cancel`)).status, 200, 'cancelled while no worker runs')
  })
  // On a busy machine the restart may outlast the 3 s: then the change is due the moment a worker is back.
  const back = Date.now()
  const done = await settled(s.call, String(leaving.body.id), 30)
  t.equal(done.status, 'completed', JSON.stringify(done.error ?? done.issues))
  const started = (done.transitions as Array<{ status: string, at: string }>).find((x) => x.status === 'accepted')?.at ?? ''
  const late = Date.parse(started) - Date.parse(effectiveAt)
  const due = Math.max(Date.parse(effectiveAt), back)
  t.ok(late >= 0 && Date.parse(started) - due <= 2000, `started ${late} ms after its effective time (the worker was back ${back - Date.parse(effectiveAt)} ms after it)`)
  t.equal(s.sim.state.users.get(ids[0] ?? '')?.state, 'inactive')
  await new Promise((resolve) => setTimeout(resolve, 3000))
  t.match((await s.call(KEY, 'GET', `/v1/provisioning-requests/${String(withdrawn.body.id)}`)).body, { status: 'cancelled', transitions: [{ status: 'scheduled' }, { status: 'cancelled' }] })
  t.equal(s.sim.state.users.get(ids[1] ?? '')?.state, 'active', 'the cancelled one never ran')
})

t.test('embedded, default brakes: of 40 terminations among 250 workers the first 25 complete, the rest are held until an admin confirms them', async (t) => {
  const { sim, env } = await common(t)
  const { TERMINATION_DELETE_AFTER_DAYS: _noDeletes, ...withDefaults } = env
  const { call } = await serveEmbedded(t, withDefaults)
  const hires = await Promise.all(Array.from({ length: 250 }, (_, i) => call(KEY, 'PUT', `/v1/workers/B-${i}`, { email: `brake.${i}@example.com`, givenName: 'Brake', familyName: `Case ${i}` })))
  t.ok(hires.every((h) => h.status === 202))
  for (const h of hires) t.equal((await settled(call, String(h.body.id), 120)).status, 'completed')
  const terminations = []
  for (let i = 0; i < 40; i++) terminations.push(await call(KEY, 'PATCH', `/v1/workers/B-${i}`, { status: 'terminated' }, MERGE))
  t.same(terminations.map((r) => r.body.status), [...Array(25).fill('accepted'), ...Array(15).fill('held')])
  for (const r of terminations.slice(0, 25)) t.equal((await settled(call, String(r.body.id))).status, 'completed')
  const inactive = () => [...sim.state.users.values()].filter((u) => u.state === 'inactive' && /^brake\./.test(u.userName)).length
  t.equal(inactive(), 25, 'the held ones did nothing')
  const released = await call(ADMIN, 'POST', '/v1/provisioning-requests/confirm', { clientId: 'hris' })
  t.equal(released.status, 200, JSON.stringify(released.body))
  t.equal((released.body.confirmed as string[]).length, 15)
  for (const r of terminations.slice(25)) t.equal((await settled(call, String(r.body.id))).status, 'completed')
  t.equal(inactive(), 40)
})
