import t from 'tap'
import type { NewHireBody } from '../../src/provisioning/model.js'
import type { AcceptResult } from '../../src/provisioning/service.js'
import { CLIENT, pipeline } from '../helpers/pipeline.js'

/**
 * Changes with a future effectiveAt: stored as scheduled, nothing written
 * until their time, then derived against the worker as it is by then, braked
 * and run like any change. The clock is the test's.
 */

let n = 0
const hire = (over: Partial<NewHireBody> = {}): NewHireBody => {
  n++
  return { hrId: `SC-${n}`, email: `scheduled.${n}@example.com`, givenName: 'Sam', familyName: `Dule ${n}`, division: 'BPO Alpha', roles: ['Agent'], groups: ['Operations/Customer Care/Support'], ...over }
}
const idOf = (a: AcceptResult) => (a.response.body as { id: string }).id
const DAY = 86_400_000

async function scheduledPipeline (opts: { brake?: { percent: number, count: number }, hrTimeZone?: string, deleteAfterDays?: number } = {}) {
  let offset = 0
  // Effective times are counted from the test's start, so two changes can name the same instant.
  const start = Date.now()
  const p = await pipeline({ ...opts, now: () => Date.now() + offset })
  return { ...p, later: (ms: number) => { offset += ms }, iso: (ms: number) => new Date(start + ms).toISOString() }
}

t.test('a termination effective tomorrow: scheduled, nothing written, started when due and completed', async (t) => {
  const p = await scheduledPipeline()
  t.teardown(p.close)
  const h = hire()
  const hired = await p.outcome(await p.submit(h))
  t.equal(hired.status, 'completed', JSON.stringify(hired.error ?? hired.issues))
  const writes = p.writes().length
  const accepted = await p.service.desire(CLIENT, h.hrId, { method: 'PATCH', body: { status: 'terminated', effectiveAt: p.iso(DAY) } })
  t.equal(accepted.response.status, 202)
  const id = idOf(accepted)
  t.match(accepted.response.body, { kind: 'terminate', status: 'scheduled' })
  t.same((await p.service.scheduled(CLIENT, h.hrId)).map((r) => r.id), [id])
  t.same(await p.requests.pending(new Date(Date.now() + 2 * DAY).toISOString(), 10), [], 'not pending: the dispatcher leaves it alone')
  t.equal(await p.requests.activeFor(CLIENT.id, h.hrId), undefined, 'the worker stays free for changes that run now')

  t.equal(await p.service.startDue(10), 0, 'not before its time')
  p.later(DAY - 5000)
  t.equal(await p.service.startDue(10), 0, 'five seconds early is still early')
  t.equal(p.writes().length, writes, 'nothing written while it waits')
  p.later(5000)
  t.equal(await p.service.startDue(10), 1, 'started at its time')
  t.equal(await p.service.startDue(10), 0, 'and only once')
  const done = await p.outcome(id)
  t.equal(done.status, 'completed', JSON.stringify(done.error))
  t.same(done.transitions.map((x) => x.status), ['scheduled', 'accepted', 'validating', 'provisioning', 'completed'].filter((s) => done.transitions.some((x) => x.status === s)))
  t.equal(done.transitions[0]?.status, 'scheduled')
  t.equal(p.sim.state.users.get(hired.genesysUserId ?? '')?.state, 'inactive', 'deactivated in Genesys')
  t.same(await p.service.scheduled(CLIENT, h.hrId), [], 'no longer listed')
})

t.test('a date without a time starts at midnight in HR_TIME_ZONE', async (t) => {
  const p = await scheduledPipeline({ hrTimeZone: 'America/New_York' })
  t.teardown(p.close)
  const h = hire()
  const accepted = await p.service.desire(CLIENT, h.hrId, { method: 'PUT', body: { email: h.email, givenName: 'Sam', effectiveAt: '2099-01-04' } })
  t.match(accepted.response.body, { kind: 'hire', status: 'scheduled', effectiveAt: '2099-01-04T05:00:00.000Z' })
  const summer = await p.service.desire(CLIENT, 'SC-SUMMER', { method: 'PUT', body: { email: 'summer@example.com', givenName: 'Summer', effectiveAt: '2099-07-04' } })
  t.match(summer.response.body, { effectiveAt: '2099-07-04T04:00:00.000Z' }, 'daylight saving time')
  t.equal(p.writes().length, 0, 'a scheduled hire writes nothing either')
})

t.test('changes stack in effective order; each is derived from the one before it; a later change supersedes only when it says so', async (t) => {
  const p = await scheduledPipeline()
  t.teardown(p.close)
  const h = hire()
  const hired = await p.outcome(await p.submit(h))
  t.equal(hired.status, 'completed')
  const leave = idOf(await p.service.desire(CLIENT, h.hrId, { method: 'PATCH', body: { status: 'terminated', effectiveAt: p.iso(2 * DAY) } }))
  const back = await p.service.desire(CLIENT, h.hrId, { method: 'PATCH', body: { status: 'active', effectiveAt: p.iso(5 * DAY) } })
  t.match(back.response.body, { kind: 'rehire', status: 'scheduled' }, 'a rehire: the worker is terminated by then')
  const promote = await p.service.desire(CLIENT, h.hrId, { method: 'PATCH', body: { title: 'Team Lead', effectiveAt: p.iso(DAY) } })
  t.match(promote.response.body, { kind: 'update', status: 'scheduled' })
  t.same((await p.service.scheduled(CLIENT, h.hrId)).map((r) => r.id), [idOf(promote), leave, idOf(back)], 'listed in effective order')
  const same = await p.service.desire(CLIENT, h.hrId, { method: 'PATCH', body: { title: 'Team Lead', effectiveAt: p.iso(3 * DAY) } })
  t.equal(same.response.status, 200, 'what the worker will already be by then is no change')

  const instead = await p.service.desire(CLIENT, h.hrId, { method: 'PATCH', body: { status: 'terminated', effectiveAt: p.iso(2 * DAY), supersede: true } })
  t.match(instead.response.body, { kind: 'terminate', status: 'scheduled' })
  const byId = async (id: string) => p.requests.get(id)
  t.match(await byId(leave), { status: 'cancelled', notes: [`Superseded by ${idOf(instead)}.`] }, 'the same effective time is superseded')
  t.match(await byId(idOf(back)), { status: 'cancelled' }, 'and so is a later one')
  t.match(await byId(idOf(promote)), { status: 'scheduled' }, 'an earlier one is kept')

  // A change that runs now and says so supersedes every scheduled one.
  const now = await p.service.desire(CLIENT, h.hrId, { method: 'PATCH', body: { department: 'Sales', supersede: true } })
  t.match(now.response.body, { kind: 'update', status: 'accepted' })
  t.same(await p.service.scheduled(CLIENT, h.hrId), [])
  t.equal((await p.outcome(idOf(now))).status, 'completed')
  p.later(3 * DAY)
  t.equal(await p.service.startDue(10), 0, 'nothing left to start')
})

t.test('cancelled before its time: nothing runs; a change made meanwhile leaves a scheduled one nothing to do', async (t) => {
  const p = await scheduledPipeline()
  t.teardown(p.close)
  const h = hire()
  const hired = await p.outcome(await p.submit(h))
  const first = idOf(await p.service.desire(CLIENT, h.hrId, { method: 'PATCH', body: { status: 'terminated', effectiveAt: p.iso(DAY) } }))
  const cancelled = await p.service.cancel(CLIENT, first)
  t.match(cancelled, { status: 'cancelled' })
  await t.rejects(p.service.cancel(CLIENT, first), { name: 'ProvisioningError', message: /Only a request that has not started/ }, 'cancelled once')
  await t.rejects(p.service.cancel({ ...CLIENT, id: 'someone-else' }, first), { name: 'ProvisioningError', message: /No provisioning request/ }, "another client's request does not exist for it")

  const second = idOf(await p.service.desire(CLIENT, h.hrId, { method: 'PATCH', body: { status: 'terminated', effectiveAt: p.iso(DAY) } }))
  // The HR system terminates at once after all; the scheduled termination finds nothing to do.
  const now = await p.outcome(idOf(await p.service.desire(CLIENT, h.hrId, { method: 'PATCH', body: { status: 'terminated' } })))
  t.equal(now.status, 'completed')
  const writes = p.writes().length
  p.later(DAY)
  t.equal(await p.service.startDue(10), 1)
  t.match(await p.requests.get(second), { status: 'cancelled', notes: [/Nothing differed/] })
  t.equal(p.writes().length, writes, 'no second deactivation')
  t.equal(p.sim.state.users.get(hired.genesysUserId ?? '')?.state, 'inactive')
})

t.test('a scheduled termination meets the mass-change brake when it takes effect', async (t) => {
  const p = await scheduledPipeline({ brake: { percent: 100, count: 0 } })
  t.teardown(p.close)
  const h = hire()
  await p.outcome(await p.submit(h))
  const id = idOf(await p.service.desire(CLIENT, h.hrId, { method: 'PATCH', body: { status: 'terminated', effectiveAt: p.iso(DAY) } }))
  t.equal(p.held.length, 0, 'not braked while it waits')
  p.later(DAY)
  t.equal(await p.service.startDue(10), 1)
  t.match(await p.requests.get(id), { status: 'held', kind: 'terminate' })
  t.equal(p.held.length, 1, 'held, for an admin to confirm')
})

t.test('a due change whose worker is busy waits its turn and runs after', async (t) => {
  const p = await scheduledPipeline()
  t.teardown(p.close)
  const h = hire()
  await p.outcome(await p.submit(h))
  const scheduled = idOf(await p.service.desire(CLIENT, h.hrId, { method: 'PATCH', body: { title: 'Supervisor', effectiveAt: p.iso(DAY) } }))
  // Another request holds the worker when the time comes.
  const blocker = { ...(await p.requests.get(scheduled))!, id: 'prq_blocker', status: 'provisioning' as const }
  t.ok(await p.requests.claimHrId(blocker))
  p.later(DAY)
  t.equal(await p.service.startDue(10), 0, 'not started while the worker is busy')
  t.match(await p.requests.get(scheduled), { status: 'scheduled' })
  t.same(await p.requests.due(Date.now() + DAY, 10), [], 'its turn moved a little later')
  await p.requests.save({ ...blocker, status: 'completed' })
  p.later(5000)
  t.equal(await p.service.startDue(10), 1)
  const done = await p.outcome(scheduled)
  t.equal(done.status, 'completed', JSON.stringify(done.error ?? done.issues))
  t.equal((await p.service.worker(CLIENT, h.hrId)).desired?.title, 'Supervisor')
})

t.test('refused: a bad effectiveAt, too many scheduled changes; nothing stored', async (t) => {
  const p = await scheduledPipeline()
  t.teardown(p.close)
  const h = hire()
  await p.outcome(await p.submit(h))
  await t.rejects(p.service.desire(CLIENT, h.hrId, { method: 'PATCH', body: { status: 'terminated', effectiveAt: '2099-02-29' } }), { name: 'ProvisioningError', message: /effectiveAt is not a date-time/ })
  for (let i = 1; i <= 20; i++) {
    await p.service.desire(CLIENT, h.hrId, { method: 'PATCH', body: { title: `Title ${i}`, effectiveAt: p.iso(i * DAY) } })
  }
  await t.rejects(p.service.desire(CLIENT, h.hrId, { method: 'PATCH', body: { title: 'One too many', effectiveAt: p.iso(30 * DAY) } }), { name: 'ProvisioningError', message: /already has 20 scheduled changes/ })
  t.equal((await p.service.scheduled(CLIENT, h.hrId)).length, 20)
})

t.test('TERMINATION_DELETE_AFTER_DAYS: a termination schedules the hard delete of its user; a rehire afterwards creates a new one', async (t) => {
  const p = await scheduledPipeline({ deleteAfterDays: 30 })
  t.teardown(p.close)
  const h = hire()
  const hired = await p.outcome(await p.submit(h))
  const userId = hired.genesysUserId ?? ''
  const leaver = await p.outcome(idOf(await p.service.desire(CLIENT, h.hrId, { method: 'PATCH', body: { status: 'terminated' } })))
  t.equal(leaver.status, 'completed')
  const deleteId = leaver.deleteRequestId ?? ''
  const scheduled = await p.service.scheduled(CLIENT, h.hrId)
  t.same(scheduled.map((r) => [r.id, r.kind, r.hardDelete]), [[deleteId, 'terminate', true]], 'the hard delete is a scheduled change of the worker')
  t.equal(Date.parse(scheduled[0]?.effectiveAt ?? '') - Date.parse(leaver.createdAt), 30 * DAY, '30 days after the termination')
  t.equal(p.sim.state.users.get(userId)?.state, 'inactive', 'until then the user is only inactive')

  p.later(30 * DAY)
  t.equal(await p.service.startDue(10), 1)
  const deleted = await p.outcome(deleteId)
  t.equal(deleted.status, 'completed', JSON.stringify(deleted.error ?? deleted.issues))
  t.same(deleted.steps.map((s) => `${s.name}:${s.status}`), ['deleteUser:done'])
  t.equal(p.sim.state.users.get(userId)?.state, 'deleted', 'deleted in Genesys')
  const entry = await p.service.worker(CLIENT, h.hrId)
  t.match(entry, { active: false, deletedAt: String }, 'the registry keeps the worker, marked deleted')
  t.equal(p.writes().filter((w) => w.method === 'DELETE').length, 1, 'one DELETE')

  const back = await p.outcome(idOf(await p.service.desire(CLIENT, h.hrId, { method: 'PATCH', body: { status: 'active' } })))
  t.equal(back.status, 'completed', JSON.stringify(back.error ?? back.issues))
  t.equal(back.kind, 'hire', 'a user that was deleted is created anew')
  t.not(back.genesysUserId, userId)
  t.match(back.notes, [/no longer exists/])
})

t.test('a hard delete never runs for a worker rehired or whose termination was withdrawn, nor for a user reactivated by hand', async (t) => {
  const p = await scheduledPipeline({ deleteAfterDays: 7 })
  t.teardown(p.close)
  // Rehired before the delete: the delete is cancelled at once.
  const a = hire()
  await p.outcome(await p.submit(a))
  const leftA = await p.outcome(idOf(await p.service.desire(CLIENT, a.hrId, { method: 'PATCH', body: { status: 'terminated' } })))
  const backA = await p.outcome(idOf(await p.service.desire(CLIENT, a.hrId, { method: 'PATCH', body: { status: 'active' } })))
  t.equal(backA.kind, 'rehire')
  t.match(await p.requests.get(leftA.deleteRequestId ?? ''), { status: 'cancelled', notes: [/Deletes the Genesys user/, /rehired/] })

  // A scheduled termination cancelled by its client takes its delete with it.
  const b = hire()
  await p.outcome(await p.submit(b))
  const leavingB = await p.service.desire(CLIENT, b.hrId, { method: 'PATCH', body: { status: 'terminated', effectiveAt: p.iso(DAY) } })
  const leaving = await p.requests.get(idOf(leavingB))
  t.equal(Date.parse((await p.requests.get(leaving?.deleteRequestId ?? ''))?.effectiveAt ?? '') - Date.parse(p.iso(DAY)), 7 * DAY, 'counted from the termination\'s effective time')
  await p.service.cancel(CLIENT, idOf(leavingB))
  t.match(await p.requests.get(leaving?.deleteRequestId ?? ''), { status: 'cancelled', notes: [/Deletes/, /was cancelled/] })

  // Reactivated by an administrator in Genesys: refused, not deleted.
  const c = hire()
  const hiredC = await p.outcome(await p.submit(c))
  const leftC = await p.outcome(idOf(await p.service.desire(CLIENT, c.hrId, { method: 'PATCH', body: { status: 'terminated' } })))
  const user = await p.genesys.client.users.get(hiredC.genesysUserId ?? '')
  await p.genesys.client.users.patch(user.resource.id, [{ op: 'replace', path: 'active', value: true }], user.version)
  p.later(7 * DAY)
  t.ok(await p.service.startDue(10) >= 1)
  const refused = await p.outcome(leftC.deleteRequestId ?? '')
  t.match(refused, { status: 'rejected', issues: [{ code: 'worker.active' }] })
  t.equal(p.sim.state.users.get(hiredC.genesysUserId ?? '')?.state, 'active', 'not deleted')
  t.equal(p.writes().filter((w) => w.method === 'DELETE').length, 0, 'no DELETE at all')
})
