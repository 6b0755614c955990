import t from 'tap'
import { deliveryForGroupSync } from '../../src/groups/events.js'
import { eventId, MAX_BODY_BYTES, serializeEvent } from '../../src/webhooks/events.js'
import type { GroupSync } from '../../src/groups/ports.js'
import { provisioningEvent } from '../../src/provisioning/events.js'
import { requestRecord } from '../helpers/records.js'

t.test('a long issue list is cut until the body fits, and says by how much', async (t) => {
  const issues = Array.from({ length: 400 }, (_, i) => ({ code: 'role.notFound', path: `/roles/${i}`, message: `role "${'R'.repeat(60)}${i}" does not exist` }))
  const event = { type: 'provisioning.rejected' as const, timestamp: '2026-11-22T09:00:00.000Z', data: { requestId: 'prq_x', issues } }
  t.ok(Buffer.byteLength(JSON.stringify(event)) > MAX_BODY_BYTES, 'the uncut body is too long')
  const body = JSON.parse(serializeEvent(event)) as { data: { issues: unknown[], issuesTruncated: number } }
  t.ok(Buffer.byteLength(JSON.stringify(body)) <= MAX_BODY_BYTES)
  t.ok(body.data.issues.length > 0)
  t.equal(body.data.issues.length + body.data.issuesTruncated, 400, 'kept + cut = all')
  const small = { ...event, data: { requestId: 'prq_x', issues: issues.slice(0, 2) } }
  t.equal(serializeEvent(small), JSON.stringify(small), 'a body that fits is left whole')
})

t.test('a group sync event cuts its id lists inside the result', async (t) => {
  const ids = Array.from({ length: 3000 }, (_, i) => `HR-${String(i).padStart(6, '0')}`)
  const sync: GroupSync = {
    id: 'gsy_01JD3W6Q4Z7Y8X9V0T1S2R3Q4P', clientId: 'c', hrPath: 'Ops/Tier 2', division: 'BPO Alpha', groupId: 'g', change: { mode: 'replace', members: ids },
    confirmed: true, status: 'completed', createdAt: '2026-11-22T09:00:00.000Z', updatedAt: '2026-11-22T09:00:01.000Z', attempts: 1,
    result: { added: ids, removed: ids.slice(0, 1000), removedUnmapped: [], unknownHrIds: [], membersBefore: 1000, membersAfter: 3000, patches: 80, conflicts: 0 },
  }
  const d = deliveryForGroupSync(sync, { webhook: { url: 'https://h.example/x', secrets: ['whsec_' + 'A'.repeat(32)] } })
  const body = JSON.parse(d?.body ?? '{}') as { data: { result: { added: string[], addedTruncated: number, removedTruncated: number, membersAfter: number } } }
  t.ok(Buffer.byteLength(d?.body ?? '') <= MAX_BODY_BYTES)
  t.equal(body.data.result.added.length + body.data.result.addedTruncated, 3000)
  t.ok(body.data.result.removedTruncated > 0)
  t.equal(body.data.result.membersAfter, 3000, 'counts are never cut')
  t.equal(d?.id, eventId(`group-sync:${sync.id}`), 'one event id per sync')
})

t.test('a hard delete completes as a termination that says the user is deleted, and when', async (t) => {
  const record = requestRecord({
    kind: 'terminate', hardDelete: true, status: 'completed', genesysUserId: 'u-1', division: 'BPO Alpha',
    steps: [{ name: 'deleteUser', status: 'done', at: '2026-12-30T00:00:01.000Z', durationMs: 40, detail: { userId: 'u-1', deletedAt: '2026-12-30T00:00:01.000Z' } }],
  })
  const made = provisioningEvent(record)
  t.match(made?.event, {
    type: 'provisioning.completed',
    data: { kind: 'terminate', hardDelete: true, userDeleted: true, deletedAt: '2026-12-30T00:00:01.000Z', genesysUserId: 'u-1', changes: { active: { before: false, after: false }, groupsRemoved: [] } },
  })
  t.notOk(made && 'deactivatedAt' in made.event.data, 'no deactivation is claimed for it')
})
